"""App configuration for bookings."""

import logging

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("antrean")


class BookingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self):
        from .notifications import checks  # noqa: F401 - registers the system check

        # DEBUG off with ALLOW_DEV_BACKENDS=1 (settings.py): say in every process what is in use.
        for variable, what in settings.DEVELOPMENT_BACKENDS:
            logger.warning("development backend in use: %s (set %s)", what, variable)
