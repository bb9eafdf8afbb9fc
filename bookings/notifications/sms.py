"""SMS backends: the one named by settings.SMS_BACKEND sends each text message."""

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

# Messages kept by MemoryBackend, like django.core.mail.outbox.
outbox: list[tuple[str, str]] = []


def send_sms(phone, text):
    """Send one text message through the configured backend; raise if it was not accepted."""
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(phone, text)


class FileBackend:
    """Write each message as a file under settings.SMS_FILE_PATH (development)."""

    def send(self, phone, text):
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid4().hex[:8]}.txt"
        # A phone number and a booking: readable by the owner only, whatever the umask.
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(f"To: {phone}\n\n{text}\n")


class ConsoleBackend:
    """Print each message to standard output."""

    def send(self, phone, text):
        sys.stdout.write(f"SMS to {phone}: {text}\n")
        sys.stdout.flush()


class MemoryBackend:
    """Keep each message in bookings.notifications.sms.outbox (tests)."""

    def send(self, phone, text):
        outbox.append((phone, text))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without the message and look like success.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpGatewayBackend:
    """POST each message as JSON {"to", "text"} to settings.SMS_GATEWAY_URL with a bearer token.

    Any answer but 2xx, a redirect, a timeout (SMS_GATEWAY_TIMEOUT) or a refused connection
    raises, and the delivery is retried later.
    """

    def send(self, phone, text):
        url = settings.SMS_GATEWAY_URL
        if not url.startswith(("https://", "http://")):
            raise ValueError("SMS_GATEWAY_URL must be an http(s) URL.")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=json.dumps({"to": phone, "text": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            },
            method="POST",
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=settings.SMS_GATEWAY_TIMEOUT) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"SMS gateway answered {exc.code}") from None
        if not 200 <= status < 300:
            raise RuntimeError(f"SMS gateway answered {status}")
