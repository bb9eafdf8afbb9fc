"""SMS backends: the one named by settings.SMS_BACKEND sends each text message."""

import json
import urllib.request
from datetime import datetime
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.utils.module_loading import import_string


def send_sms(phone, text):
    """Send one text message through the configured backend."""
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(phone, text)


class FileBackend:
    """Write each message as a file under settings.SMS_FILE_PATH (development)."""

    def send(self, phone, text):
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now().astimezone():%Y%m%d-%H%M%S}-{uuid4().hex[:8]}.txt"
        (folder / name).write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")


class ConsoleBackend:
    """Print each message to standard output."""

    def send(self, phone, text):
        print(f"SMS to {phone}: {text}", flush=True)  # noqa: T201


class HttpGatewayBackend:
    """POST each message as JSON to settings.SMS_GATEWAY_URL with a bearer token."""

    def send(self, phone, text):
        if not settings.SMS_GATEWAY_URL.startswith(("https://", "http://")):
            raise ValueError("SMS_GATEWAY_URL must be an http(s) URL.")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            settings.SMS_GATEWAY_URL,
            data=json.dumps({"to": phone, "text": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=settings.SMS_GATEWAY_TIMEOUT) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"SMS gateway answered {response.status}")
