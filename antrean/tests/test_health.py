"""/healthz: 200 when the database answers, 503 with a JSON body when it does not."""

import json

import pytest

from antrean.tests import production_env, run_code

# Ask /healthz through the full middleware stack of a fresh process with production settings.
PROBE = """
import json
import django
django.setup()
from django.test import Client
response = Client().get("/healthz", secure=True)
print(json.dumps({
    "status": response.status_code,
    "content_type": response["Content-Type"],
    "body": json.loads(response.content),
}))
"""


def ask_healthz(database_url) -> dict:
    env = production_env(
        DATABASE_URL=database_url,
        ALLOW_DEV_BACKENDS="1",  # SQLite on purpose in two of these
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="antrean.settings",
    )
    result = run_code(PROBE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


def test_healthz_answers_ok_in_a_fresh_process_on_sqlite(tmp_path):
    answer = ask_healthz(f"sqlite:///{tmp_path}/health.sqlite3")

    assert answer == {
        "status": 200,
        "content_type": "application/json",
        "body": {"status": "ok"},
    }


def test_healthz_answers_503_when_postgresql_does_not_answer():
    # Nothing listens on port 1: the connection is refused at once.
    answer = ask_healthz("postgres://root@127.0.0.1:1/antrean_absent")

    assert answer["status"] == 503
    assert answer["content_type"] == "application/json"
    assert answer["body"]["status"] == "unavailable"


def test_healthz_answers_503_when_the_sqlite_file_cannot_be_opened(tmp_path):
    answer = ask_healthz(f"sqlite:///{tmp_path}/no-such-directory/health.sqlite3")

    assert answer["status"] == 503
    assert answer["body"]["status"] == "unavailable"
