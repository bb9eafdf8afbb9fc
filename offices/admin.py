"""Admin for offices: quotas, service windows and day overrides."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import DayOverride, Office, PassportFee, ServiceWindow


class ServiceWindowInline(admin.TabularInline):
    model = ServiceWindow
    extra = 0
    ordering = ["weekday", "start"]


@admin.register(Office)
class OfficeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "city", "timezone", "daily_quota", "walk_in_reserve"]
    list_filter = ["timezone"]
    search_fields = ["name", "code", "city"]
    prepopulated_fields = {"code": ["city"]}
    filter_horizontal = ["staff"]
    inlines = [ServiceWindowInline]


@admin.register(DayOverride)
class DayOverrideAdmin(SimpleHistoryAdmin):
    list_display = ["office", "date", "closed", "quota", "reason"]
    list_filter = ["closed", "office"]
    search_fields = ["reason", "office__name"]
    date_hierarchy = "date"


@admin.register(PassportFee)
class PassportFeeAdmin(SimpleHistoryAdmin):
    list_display = ["passport_type", "amount", "legal_basis"]
