"""System check: the configured SMS backend can be imported, so a wrong path fails at deploy."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

BACKENDS = [
    f"bookings.notifications.sms.{name}"
    for name in ("FileBackend", "ConsoleBackend", "HttpGatewayBackend")
]


@register()
def sms_backend_importable(app_configs, **kwargs):
    """Refuse to start with an SMS_BACKEND that cannot be imported (each SMS would fail)."""
    try:
        import_string(settings.SMS_BACKEND)
    except ImportError as exc:
        return [
            Error(
                f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {exc}",
                hint="Use one of " + ", ".join(BACKENDS) + " (before issue 12: bookings.sms.…).",
                id="antrean.E001",
            )
        ]
    return []
