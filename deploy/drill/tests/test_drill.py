"""The drill's own pieces: its nginx config, nginx's log, the app's queues, delivery counts."""

import shutil
import subprocess

import pytest
from django.core.mail import EmailMessage, get_connection

from bookings.notifications.sms import FileBackend
from deploy.drill.checks import delivered, judge_deliveries, relay_runs, traffic
from deploy.drill.nginx import nginx_conf
from deploy.drill.queues import app_queues


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_config(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(prefix=tmp_path, port=8080, upstreams=[8001, 8002]))
    check = subprocess.run(
        ["nginx", "-t", "-q", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_config_never_replays_a_post():
    text = nginx_conf(prefix="/tmp/x", port=8080, upstreams=[8001, 8002])
    assert "proxy_next_upstream error timeout;" in text
    assert "non_idempotent" not in text
    assert "server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;" in text


def test_traffic_around_the_kill():
    log = "\n".join(
        [
            "100.0|POST|201|127.0.0.1:1|201|0.1",
            "100.5|POST|201|127.0.0.1:2|201|0.1",
            "101.2|POST|502|127.0.0.1:1|502|0.3",  # sent to the killed group: not replayed
            "102.0|POST|201|127.0.0.1:1, 127.0.0.1:2|502, 201|0.1",  # refused: passed on
            "103.0|POST|409|127.0.0.1:2|409|0.1",
            "not a line of ours",
        ]
    )
    seen = traffic(log, kill_at=101.0, dead="127.0.0.1:1", alive="127.0.0.1:2")
    assert seen == {
        "before_answered_by_killed": 1,
        "before_answered_by_survivor": 1,
        "after_5xx": 1,
        "after_5xx_dead_group": 1,
        "after_answered_by_survivor": 2,
        "after_passed_to_next": 1,
    }


def test_queues_of_routes_and_schedule():
    routes = {"bookings.tasks.mark_no_shows": {"queue": "periodic"}, "x.y": "other"}
    schedule = {"a": {"task": "t", "options": {"queue": "beat-only"}}, "b": {"task": "u"}}
    assert app_queues(routes, schedule, "messages") == [
        "beat-only",
        "messages",
        "other",
        "periodic",
    ]
    assert app_queues({}, {}, "celery") == ["celery"]
    with pytest.raises(ValueError, match="not a map"):
        app_queues([lambda *a: None], {}, "celery")


def test_deliveries_counted_per_message_not_per_file(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    # One backend object writes both e-mails into one file, as Django's may within a second.
    EmailMessage("a", "b", to=["siti@example.com"]).send()
    with get_connection() as connection:
        connection.send_messages(
            [EmailMessage("a", "b", to=[to]) for to in ("budi@example.com", "siti@example.com")]
        )
    FileBackend().send("+6281200000001", "Kode booking ABC")
    found = delivered(tmp_path / "mail", tmp_path / "sms")
    assert found == {
        ("email", "siti@example.com"): 2,
        ("email", "budi@example.com"): 1,
        ("sms", "+6281200000001"): 1,
    }
    rows = [
        (1, "email", "sent", 1, "siti@example.com"),
        (1, "sms", "sent", 1, "+6281200000001"),
        (2, "email", "sent", 2, "budi@example.com"),
        (3, "sms", "pending", 0, "+6281200000003"),
    ]
    assert judge_deliveries(rows, found) == {
        "bookings": 3,
        "rows": 4,
        "statuses": {"sent": 3, "pending": 1},
        "deliveries": 4,
        "missing": 1,
        "duplicates": 1,
        "unknown": 0,
        "rows_retried": 1,
    }


def test_relay_runs_read_from_the_worker_log():
    log = (
        "[2026-12-05 15:35:20,1: INFO/ForkPoolWorker-1] Task "
        "bookings.tasks.relay_notifications[ab-1] succeeded in 0.02s: 0\n"
        "[2026-12-05 15:35:50,1: INFO/ForkPoolWorker-1] Task "
        "bookings.tasks.relay_notifications[ab-2] succeeded in 0.03s: 3\n"
    )
    assert relay_runs(log) == (2, 3)
