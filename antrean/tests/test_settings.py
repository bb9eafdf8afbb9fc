"""Settings: the real module read in a fresh process under chosen environment variables."""

import json
import secrets

import pytest

from antrean.tests import BASE_DIR, clean_env, manage, production_env, run_code

# Import the settings module alone and print what we check.
PROBE = """
import json
from antrean import settings as s
names = [
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASES", "CELERY_BROKER_URL",
    "CELERY_BROKER_TRANSPORT_OPTIONS", "EMAIL_BACKEND", "EMAIL_FILE_PATH", "EMAIL_HOST",
    "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "TIME_ZONE", "USE_TZ",
    "LANGUAGE_CODE", "LANGUAGES", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "BOOKING_MAX_RESCHEDULES",
    "REMINDER_LEAD_TIME", "CELERY_TASK_SERIALIZER", "CELERY_TASK_ACKS_LATE",
    "CELERY_TASK_TIME_LIMIT",
]
values = {name: getattr(s, name, None) for name in names}
values["REMINDER_LEAD_TIME"] = values["REMINDER_LEAD_TIME"].total_seconds()
values["LANGUAGES"] = [code for code, _name in values["LANGUAGES"]]
print(json.dumps(values, default=str))
"""

MISSING_KEY_SENTENCE = "Set the SECRET_KEY environment variable (or DEBUG=1 for development)."
VAR = BASE_DIR / "var"


def read_settings(env) -> dict:
    """Return the settings the module computes under an environment; fail on any error."""
    result = run_code(PROBE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production(**variables) -> dict:
    return read_settings(production_env(**variables))


def development(**variables) -> dict:
    """The embedded defaults, as `make run` reads them."""
    return read_settings(clean_env(DEBUG="1", **variables))


# SECRET_KEY and DEBUG.


@pytest.mark.parametrize("debug", [None, "0", "false", "off", ""])
def test_without_secret_key_and_debug_off_startup_stops_naming_the_variable(debug):
    env = clean_env() if debug is None else clean_env(DEBUG=debug)

    result = manage("check", env=env)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.endswith(MISSING_KEY_SENTENCE)


def test_an_empty_secret_key_counts_as_missing():
    result = run_code(PROBE, clean_env(SECRET_KEY=""))

    assert result.returncode != 0
    assert MISSING_KEY_SENTENCE in result.stderr


def test_debug_on_runs_without_a_secret_key_with_a_development_one():
    values = read_settings(clean_env(DEBUG="1"))

    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("django-insecure-")
    assert values["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False


def test_a_given_secret_key_is_used():
    key = secrets.token_urlsafe(50)

    assert production(SECRET_KEY=key)["SECRET_KEY"] == key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("True", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_debug_is_parsed_as_a_boolean(value, expected):
    assert production(DEBUG=value)["DEBUG"] is expected


def test_debug_is_off_by_default():
    values = read_settings(clean_env(SECRET_KEY=secrets.token_urlsafe(50), ALLOW_DEV_BACKENDS="1"))

    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == []
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0


def test_allowed_hosts_is_a_comma_separated_list():
    values = production(ALLOWED_HOSTS="antrean.imigrasi.go.id,antrean.example.go.id")

    assert values["ALLOWED_HOSTS"] == ["antrean.imigrasi.go.id", "antrean.example.go.id"]


# Database.


def test_the_default_database_is_sqlite_under_var_with_immediate_transactions():
    database = development()["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(VAR / "antrean.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_chooses_postgresql():
    database = production(DATABASE_URL="postgres://antrean:rahasia@db.internal:5433/antrean")[
        "DATABASES"
    ]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"], database["PORT"]) == (
        "antrean",
        "db.internal",
        5433,
    )
    assert (database["USER"], database["PASSWORD"]) == ("antrean", "rahasia")
    assert "transaction_mode" not in database.get("OPTIONS", {})
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is False  # a round trip per request: opt in


def test_connection_health_checks_can_be_switched_on():
    url = "postgres://antrean:rahasia@db.internal:5433/antrean"
    database = production(DATABASE_URL=url, CONN_HEALTH_CHECKS="1")["DATABASES"]["default"]
    assert database["CONN_HEALTH_CHECKS"] is True


def test_a_sqlite_database_url_keeps_immediate_transactions(tmp_path):
    database = development(DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3")["DATABASES"][
        "default"
    ]

    assert database["NAME"] == f"{tmp_path}/other.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


# Celery broker.


def test_the_default_broker_is_the_filesystem_under_var_celery():
    values = development()

    assert values["CELERY_BROKER_URL"] == "filesystem://"
    options = values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["data_folder_in"] == str(VAR / "celery" / "queue")
    assert options["data_folder_out"] == str(VAR / "celery" / "queue")
    assert options["processed_folder"].startswith(str(VAR / "celery"))


def test_celery_broker_url_chooses_redis():
    values = production(CELERY_BROKER_URL="redis://127.0.0.1:6379/1")

    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/1"
    assert "data_folder_in" not in values["CELERY_BROKER_TRANSPORT_OPTIONS"]


def test_celery_uses_json_late_acks_and_time_limits():
    values = production()

    assert values["CELERY_TASK_SERIALIZER"] == "json"
    assert values["CELERY_TASK_ACKS_LATE"] is True
    assert values["CELERY_TASK_TIME_LIMIT"] > 0


# E-mail.


def test_mail_is_written_as_files_under_var_mail_by_default():
    values = development()

    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["EMAIL_FILE_PATH"] == str(VAR / "mail")


def test_email_url_switches_to_smtp():
    values = production(EMAIL_URL="smtp://kanim:rahasia@mail.example.go.id:2525")

    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("mail.example.go.id", 2525)
    assert values["EMAIL_HOST_USER"] == "kanim"
    assert not values["EMAIL_USE_TLS"]


def test_email_url_with_tls():
    values = production(EMAIL_URL="smtp+tls://kanim:rahasia@mail.example.go.id:587")

    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["EMAIL_USE_TLS"] is True


# Language, time and policy.


def test_indonesian_first_english_second_and_times_in_utc_shown_in_jakarta():
    values = production()

    assert values["LANGUAGE_CODE"] == "id"
    assert values["LANGUAGES"] == ["id", "en"]
    assert values["TIME_ZONE"] == "Asia/Jakarta"
    assert values["USE_TZ"] is True


def test_booking_policy_comes_from_the_environment():
    defaults = production()
    changed = production(BOOKING_MAX_RESCHEDULES="2", REMINDER_LEAD_HOURS="6")

    assert (defaults["BOOKING_MAX_RESCHEDULES"], defaults["REMINDER_LEAD_TIME"]) == (1, 86400)
    assert (changed["BOOKING_MAX_RESCHEDULES"], changed["REMINDER_LEAD_TIME"]) == (2, 6 * 3600)
