"""Django's system checks: clean in development and tests, and --deploy clean in production."""

import pytest

from antrean.tests import clean_env, manage, production_env

# Silenced on purpose (settings.py): django-ratelimit's W001 everywhere (it knows django-redis,
# not Django's own Redis backend), its E003 where a per-process cache is allowed, and
# --deploy's W021 while HSTS preloading is not opted into.
NO_ISSUES_IN_PRODUCTION = "System check identified no issues (1 silenced)."
NO_ISSUES_IN_DEPLOY = "System check identified no issues (2 silenced)."
NO_ISSUES_IN_DEVELOPMENT = "System check identified no issues (2 silenced)."


def test_check_is_clean_in_development():
    result = manage("check", "--fail-level", "WARNING", env=clean_env(DEBUG="1"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert NO_ISSUES_IN_DEVELOPMENT in result.stdout


def test_check_is_clean_with_production_variables():
    result = manage("check", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert NO_ISSUES_IN_PRODUCTION in result.stdout


def test_check_deploy_has_no_warning_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert NO_ISSUES_IN_DEPLOY in result.stdout


def test_hsts_preload_is_opted_into():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(SECURE_HSTS_PRELOAD="1")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert NO_ISSUES_IN_PRODUCTION in result.stdout


@pytest.mark.parametrize(
    ("variables", "warning"),
    [
        ({"DEBUG": "1"}, "security.W018"),  # DEBUG on in production
        ({"SECRET_KEY": "short-key"}, "security.W009"),
        ({"SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
    ],
)
def test_check_deploy_warns_about_an_unsafe_production_variable(variables, warning):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(**variables))

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_every_model_change_has_its_migration():
    result = manage("makemigrations", "--check", "--dry-run", env=clean_env(DEBUG="1"))

    assert result.returncode == 0, result.stdout + result.stderr
