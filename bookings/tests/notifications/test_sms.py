"""SMS backends: files, memory, and the HTTP gateway against a local fake gateway."""

import json
import stat
import threading
from datetime import time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bookings.notifications import checks, sms
from bookings.notifications.delivery import RetryLater, deliver
from bookings.services import create_booking
from bookings.tests.factories import make_applicant


class FakeGateway(ThreadingHTTPServer):
    """An SMS gateway on 127.0.0.1 that records each request and answers `status`."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.status = 202
        self.location = ""
        self.requests = []
        self.hang = threading.Event()  # while cleared, answer at once
        self.release = threading.Event()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/send"


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), json.loads(body)))
        if self.server.hang.is_set():
            self.server.release.wait(timeout=30)
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self):
        self.server.requests.append((self.path, dict(self.headers), None))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.SMS_BACKEND = "bookings.notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_TOKEN = "gateway-token"
    settings.SMS_GATEWAY_TIMEOUT = 5
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_the_gateway_gets_the_number_and_text_as_json_with_the_token(gateway):
    sms.send_sms("+6281234567890", "Kode ABCD2345EF")

    [(path, headers, body)] = gateway.requests
    assert path == "/send"
    assert headers["Authorization"] == "Bearer gateway-token"
    assert headers["Content-Type"] == "application/json"
    assert body == {"to": "+6281234567890", "text": "Kode ABCD2345EF"}


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_a_gateway_error_raises(gateway, status):
    gateway.status = status
    with pytest.raises(RuntimeError, match=f"SMS gateway answered {status}"):
        sms.send_sms("+6281234567890", "text")


def test_a_redirect_is_not_followed_as_a_get_without_the_message(gateway):
    gateway.status = 302
    gateway.location = gateway.url + "/elsewhere"
    with pytest.raises(RuntimeError, match="302"):
        sms.send_sms("+6281234567890", "text")
    assert [path for path, _headers, _body in gateway.requests] == ["/send"]


def test_a_gateway_that_does_not_answer_times_out(gateway, settings):
    settings.SMS_GATEWAY_TIMEOUT = 0.2
    gateway.hang.set()
    with pytest.raises(TimeoutError):
        sms.send_sms("+6281234567890", "text")


def test_a_gateway_that_is_down_raises(gateway, settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:1/send"
    with pytest.raises(OSError):
        sms.send_sms("+6281234567890", "text")


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://example.com/"])
def test_only_http_gateway_urls_are_used(settings, url):
    settings.SMS_BACKEND = "bookings.notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = url
    with pytest.raises(ValueError):
        sms.send_sms("+6281234567890", "text")


@pytest.mark.django_db
def test_a_failing_gateway_makes_the_notification_retry(gateway, office, now, tomorrow, settings):
    settings.NOTIFICATION_RETRY_DELAY = timedelta(minutes=2)
    window = office.windows.get(weekday=tomorrow.weekday(), start=time(8))
    booking = create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(email=""), now=now
    )
    notification = booking.notifications.get(channel="sms")
    gateway.status = 503

    assert deliver(notification.pk, now=now) == RetryLater(120, 1)
    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == (
        "pending",
        "RuntimeError: SMS gateway answered 503",
    )

    gateway.status = 200
    assert deliver(notification.pk, now=now) is None
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert [body["to"] for _path, _headers, body in gateway.requests] == ["+6281234567890"] * 2
    assert booking.code in gateway.requests[-1][2]["text"]


def test_the_file_backend_writes_one_file_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "bookings.notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    sms.send_sms("+6281234567890", "first")
    sms.send_sms("+6281234567891", "second")

    texts = sorted(path.read_text(encoding="utf-8") for path in (tmp_path / "sms").iterdir())
    assert texts == ["To: +6281234567890\n\nfirst\n", "To: +6281234567891\n\nsecond\n"]


def test_message_files_are_readable_by_their_owner_only(settings, tmp_path):
    settings.SMS_BACKEND = "bookings.notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    sms.send_sms("+6281234567890", "first")

    assert stat.S_IMODE((tmp_path / "sms").stat().st_mode) == 0o700
    (written,) = (tmp_path / "sms").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_the_console_backend_prints(settings, capsys):
    settings.SMS_BACKEND = "bookings.notifications.sms.ConsoleBackend"
    sms.send_sms("+6281234567890", "hello")
    assert capsys.readouterr().out == "SMS to +6281234567890: hello\n"


def test_the_memory_backend_keeps_messages(settings):
    settings.SMS_BACKEND = "bookings.notifications.sms.MemoryBackend"
    sms.outbox.clear()
    sms.send_sms("+6281234567890", "hello")
    assert sms.outbox == [("+6281234567890", "hello")]
    sms.outbox.clear()


def test_a_backend_path_that_cannot_be_imported_fails_the_system_check(settings):
    settings.SMS_BACKEND = "bookings.sms.HttpGatewayBackend"  # the path before issue 12
    errors = checks.sms_backend_importable(None)
    assert [e.id for e in errors] == ["antrean.E001"]
    assert "bookings.notifications.sms.HttpGatewayBackend" in errors[0].hint
    settings.SMS_BACKEND = "bookings.notifications.sms.HttpGatewayBackend"
    assert checks.sms_backend_importable(None) == []
