"""/metrics: who may read it, what it says of requests, and counts added up across gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from antrean import health
from antrean.tests import BASE_DIR, clean_env, run_code

pytestmark = pytest.mark.django_db


def samples(response) -> dict:
    """Return {(sample name, sorted labels): value} of a scrape's answer."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def responses(scraped, view, status="200"):
    key = ("antrean_http_responses_total", (("status", status), ("view", view)))
    return scraped.get(key, 0)


def test_the_scrape_parses_and_names_every_family(client):
    names = {
        family.name
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
    }

    assert {
        "antrean_http_request_duration_seconds",
        "antrean_http_responses",
        "antrean_outbox_messages",
        "antrean_outbox_overdue_messages",
        "antrean_queue_waiting",
        "antrean_ballot_entries",
        "antrean_ballot_releases",
        "antrean_ballot_last_draw_timestamp_seconds",
        "antrean_beat_overdue",
    } <= names


def test_an_address_not_allowed_gets_a_404_whatever_the_method(client):
    for method in (client.get, client.post, client.head):
        assert method("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    assert client.post("/metrics").status_code == 405  # from an allowed address


def test_allowed_addresses_and_networks_come_from_the_setting(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.5.0/24", "2001:db8::1"]

    assert client.get("/metrics", REMOTE_ADDR="10.0.5.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.6.7").status_code == 404
    assert client.get("/metrics").status_code == 404  # 127.0.0.1: no longer listed


def test_behind_the_proxy_the_address_it_reports_decides(client, settings):
    settings.CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    settings.METRICS_ALLOWED_IPS = ["10.0.5.0/24"]

    # The proxy itself connects from 127.0.0.1: what counts is whom it says it serves.
    assert client.get("/metrics", HTTP_X_REAL_IP="203.0.113.9").status_code == 404
    assert client.get("/metrics", HTTP_X_REAL_IP="10.0.5.7").status_code == 200
    # A forged header in front of the proxy's own entry changes nothing.
    forged = "10.0.5.7, 203.0.113.9"
    assert client.get("/metrics", HTTP_X_REAL_IP=forged).status_code == 404


def test_a_malformed_allowed_address_stops_start_up_naming_the_variable():
    env = clean_env(DEBUG="1", METRICS_ALLOWED_IPS="10.0.5.300")
    result = run_code(
        "import django\ndjango.setup()\n", {**env, "DJANGO_SETTINGS_MODULE": "antrean.settings"}
    )

    assert result.returncode != 0
    assert "METRICS_ALLOWED_IPS" in result.stderr


def test_latency_is_labelled_by_view_name_never_by_path(client):
    before = samples(client.get("/metrics"))

    client.get("/bookings/AB7K9Q/")
    client.get("/offices/palembang/2017-09-06/")
    client.get("/no-such-page-XY12ZZ/")
    response = client.get("/metrics")
    after = samples(response)

    text = response.content.decode()
    for personal in ("AB7K9Q", "palembang", "2017-09-06", "XY12ZZ"):
        assert personal not in text
    count = "antrean_http_request_duration_seconds_count"
    for view in ("booking-detail", "office-day", "unrouted"):
        key = (count, (("view", view),))
        assert after[key] - before.get(key, 0) == 1


def test_the_middleware_counts_server_errors_by_status(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database driver broke")

    client.raise_request_exception = False
    before = samples(client.get("/metrics"))
    monkeypatch.setattr(health.connection, "cursor", broken)

    assert client.get("/healthz").status_code == 500
    monkeypatch.undo()

    after = samples(client.get("/metrics"))
    assert responses(after, "healthz", "500") - responses(before, "healthz", "500") == 1


# ---- many gunicorn workers, one count ---------------------------------------------------------


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return answer.status


@pytest.fixture
def gunicorn(tmp_path):
    """Start gunicorn with two sync workers, antrean's hooks and a stale counts file."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left by an earlier run")
    port = _free_port()
    env = clean_env(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",  # /healthz asks SELECT 1 only
        PROMETHEUS_MULTIPROC_DIR=str(folder),
        VAR_DIR=str(tmp_path),
    )
    command = [
        str(os.path.join(os.path.dirname(sys.executable), "gunicorn")),
        "antrean.wsgi",
        "-c",
        "python:antrean.gunicorn_conf",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    server = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(port, "/healthz")
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(server.stdout.read().decode()[-2000:]) from None
            time.sleep(0.2)
    yield port, folder
    server.terminate()
    server.wait(timeout=15)


def test_a_scrape_adds_up_the_counts_of_every_gunicorn_worker(client, gunicorn, monkeypatch):
    port, folder = gunicorn
    assert not (folder / "counter_999999.db").exists()  # emptied at start
    # One worker is kept busy reading a request that has not ended, so the other answers
    # the rest: both write counts.
    with socket.create_connection(("127.0.0.1", port)) as held:
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        for _ in range(20):
            assert _get(port, "/healthz") == 200
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(100).startswith(b"HTTP/1.1 200")

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    scraped = samples(client.get("/metrics"))

    # 20, the held one and the start-up probe that answered: every worker's files, added up.
    workers = {path.name for path in folder.glob("counter_*.db")}
    assert len(workers) == 2, workers
    assert responses(scraped, "healthz") == 22
    assert scraped[("antrean_outbox_messages", (("channel", "sms"), ("status", "pending")))] == 0
