"""Production refuses to start half-configured; limits hold across processes and a crowd."""

import pytest
from django.core.cache import caches
from django.test import RequestFactory
from django_ratelimit.core import is_ratelimited

from antrean.client_ip import client_ip
from antrean.tests import manage, production_env, run_code

SETUP = "import django\ndjango.setup()\nprint('started')\n"


def start(**variables):
    """Start Django under the production variables; a None value unsets that variable."""
    env = production_env(DJANGO_SETTINGS_MODULE="antrean.settings", **variables)
    for name, value in variables.items():
        if value is None:
            del env[name]
    return run_code(SETUP, env)


def test_a_complete_production_configuration_starts():
    result = start()
    assert result.returncode == 0, result.stderr
    assert "development backend" not in result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:////srv/antrean.sqlite3"}, "DATABASE_URL"),
        ({"EMAIL_URL": None}, "EMAIL_URL"),
        ({"SMS_BACKEND": "bookings.notifications.sms.FileBackend"}, "SMS_BACKEND"),
        ({"SMS_GATEWAY_URL": "http://sms.example.go.id/send"}, "SMS_GATEWAY_URL"),
        ({"SITE_URL": "http://antrean.example.go.id"}, "SITE_URL"),
        ({"CACHE_URL": None}, "CACHE_URL"),
        ({"CACHE_URL": "locmemcache://x"}, "CACHE_URL"),
        ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL"),
    ],
)
def test_each_development_backend_stops_start_up_naming_its_variable(variables, named):
    result = start(**variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"set {named} (now" in result.stderr
    assert "started" not in result.stdout


def test_allow_dev_backends_starts_and_warns_naming_each_one():
    result = start(DATABASE_URL=None, EMAIL_URL=None, ALLOW_DEV_BACKENDS="1")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "development backend" in line]
    assert len(warnings) == 2
    assert any("(set DATABASE_URL)" in line for line in warnings)
    assert any("(set EMAIL_URL)" in line for line in warnings)


def test_django_ratelimit_checks_run_and_refuse_a_cache_that_keeps_nothing():
    env = production_env(CACHE_URL="dummycache://", ALLOW_DEV_BACKENDS="1")
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "django_ratelimit.E003" in result.stdout + result.stderr


def test_rate_limits_have_a_cache_of_their_own(settings):
    assert settings.RATELIMIT_USE_CACHE == "ratelimit"
    assert caches["ratelimit"] is not caches["default"]


def test_kept_answers_are_read_from_each_process_in_front_of_the_shared_cache():
    code = SETUP + (
        "from django.core.cache import caches\n"
        "print(type(caches['kept']).__name__, type(caches['kept']._shared).__name__)\n"
    )
    result = run_code(code, production_env(DJANGO_SETTINGS_MODULE="antrean.settings"))
    assert result.returncode == 0, result.stderr
    assert "TwoLevelCache RedisCache" in result.stdout


def test_a_crowd_of_availability_entries_does_not_reset_a_clients_booking_limit(rf, settings):
    settings.RATELIMIT_ENABLE = True
    request = rf.post("/api/v1/bookings", REMOTE_ADDR="203.0.113.7")

    def limited():
        return is_ratelimited(request, group="api-booking", key="ip", rate="3/m", increment=True)

    assert [limited() for _ in range(4)] == [False, False, False, True]
    # What the availability endpoint keeps: one entry per office, start and span.
    for day in range(400):
        caches["kept"].set(f"api-availability:palembang:2017-09-{day}:7", "{}", 60)
    assert limited()


def test_the_client_address_is_the_proxys_header_only_behind_a_proxy(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="203.0.113.7")
    settings.CLIENT_IP_META_KEY = "REMOTE_ADDR"
    assert client_ip(request) == "10.0.0.2"
    settings.CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    assert client_ip(request) == "203.0.113.7"
    forwarded = factory.get("/", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
    settings.CLIENT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    assert client_ip(forwarded) == "203.0.113.7"  # the entry our own proxy added


def test_behind_a_proxy_both_limits_read_the_real_ip_header():
    code = (
        "from django.conf import settings as s\n"
        "print(s.CLIENT_IP_META_KEY, s.RATELIMIT_IP_META_KEY, s.AXES_CLIENT_IP_CALLABLE)\n"
    )
    result = run_code(
        "import django\ndjango.setup()\n" + code,
        production_env(DJANGO_SETTINGS_MODULE="antrean.settings", BEHIND_PROXY="1"),
    )
    assert result.returncode == 0, result.stderr
    key, ratelimit, axes = result.stdout.split()[-3:]
    assert key == "HTTP_X_REAL_IP"
    assert ratelimit == axes == "antrean.client_ip.client_ip"


@pytest.mark.django_db
def test_one_address_behind_the_proxy_cannot_lock_every_clerk_out(client, settings):
    from django.urls import reverse

    from bookings.tests.factories import PASSWORD, make_user

    settings.AXES_ENABLED = True
    settings.CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_user("petugas.a", password=PASSWORD)
    url = reverse("admin:login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            url, {"username": "petugas.a", "password": "wrong"}, HTTP_X_REAL_IP="203.0.113.66"
        )
    # The same clerk from her own address behind the same proxy still logs in.
    response = client.post(
        url, {"username": "petugas.a", "password": PASSWORD}, HTTP_X_REAL_IP="198.51.100.10"
    )
    assert response.status_code == 302
