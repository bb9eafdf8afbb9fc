"""Helpers for tests that start the project in a subprocess with an environment they choose."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Every variable antrean/settings.py reads, found in its source so that new ones are covered.
_SOURCE = (BASE_DIR / "antrean" / "settings.py").read_text(encoding="utf-8")
SETTINGS_VARIABLES = frozenset(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', _SOURCE))

# Prepended to code run in a subprocess: a developer's .env file must not change what we test.
IGNORE_DOTENV = """
import environ
environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)
"""

_MANAGE = (
    IGNORE_DOTENV
    + """
import sys
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""
)


def clean_env(**variables) -> dict:
    """Return this process's environment without any setting of ours, plus `variables`."""
    # Django's own variables go too: another test may have set DJANGO_ALLOW_ASYNC_UNSAFE.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS_VARIABLES and not k.startswith("DJANGO_")
    }
    env.update(variables)
    return env


def production_env(**variables) -> dict:
    """Return the variables a production deployment sets, DEBUG off, plus `variables`."""
    production = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "antrean.example.go.id",
        # Read, not reached: start-up only checks that nothing is a development backend.
        "DATABASE_URL": "postgres://antrean@127.0.0.1:5432/antrean",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp+tls://antrean:secret@smtp.example.go.id:587",
        "SMS_BACKEND": "bookings.notifications.sms.HttpGatewayBackend",
        "SMS_GATEWAY_URL": "https://sms.example.go.id/send",
        "SITE_URL": "https://antrean.example.go.id",
    }
    return clean_env(**{**production, **variables})


def run(args, env, timeout=120) -> subprocess.CompletedProcess:
    """Run the project's Python with arguments in the project directory."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_code(code, env) -> subprocess.CompletedProcess:
    """Run Python code in a subprocess of the project, ignoring any .env file."""
    return run(["-c", IGNORE_DOTENV + code], env)


def manage(*args, env) -> subprocess.CompletedProcess:
    """Run a manage.py command in a subprocess, ignoring any .env file."""
    return run(["-c", _MANAGE, *args], {**env, "DJANGO_SETTINGS_MODULE": "antrean.settings"})
