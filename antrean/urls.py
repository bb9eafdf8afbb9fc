"""URL configuration: public pages, the JSON API, admin, health check, language switch."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from .favicon import favicon
from .health import healthz
from .language import choose_language
from .metrics import metrics

admin.site.site_header = _("Antrean Paspor · Immigration office staff")
admin.site.site_title = _("Antrean Paspor")
admin.site.index_title = _("Office administration")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("metrics", metrics, name="metrics"),
    path("language/<str:code>/", choose_language, name="language"),
    path("admin/reports/monthly/", include("bookings.reports.views")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("bookings.api")),
    path("", include("bookings.public.urls")),
]
