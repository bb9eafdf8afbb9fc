"""Admin for offices: quotas, service windows and day overrides, each office seeing its own.

Scoping is done by querysets (OfficeScopedAdmin), so lists, forms, filters, actions,
autocomplete and history all show a clerk only the offices they belong to.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from . import clock, services
from .access import (
    changeable_office_ids,
    changeable_offices,
    is_supervisor,
    staff_office_ids,
    staff_offices,
)
from .models import Counter, DayOverride, Office, PassportFee, ServiceWindow

# Scope ---------------------------------------------------------------------------------


def sees_all_offices(request) -> bool:
    """Return whether the request's user reads every office (supervisors, superusers)."""
    if not hasattr(request, "_sees_all_offices"):
        request._sees_all_offices = is_supervisor(request.user)
    return request._sees_all_offices


# What the list filters send: a choice, a yes or no, a date range, an empty value, a relation.
FILTER_LOOKUPS = ("exact", "isnull", "gte", "gt", "lt", "lte", "id__exact")


class ListFiltersOnlyMixin:
    """Narrow a list only by its own list filters; any other lookup in the address answers 400.

    Django lets a list be narrowed by any local field (?nik__startswith=1671): on a list
    that masks a column, that would unmask it a character at a time, and put it in URLs
    and access logs. A model admin names the lookups it builds itself in extra_lookups.
    """

    extra_lookups = ()

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.allowed_lookups(request)

    def allowed_lookups(self, request) -> set:
        allowed = set(self.extra_lookups)
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                allowed.add(item.parameter_name)
            else:
                name = item[0] if isinstance(item, list | tuple) else item
                allowed.update(f"{name}__{lookup}" for lookup in FILTER_LOOKUPS)
        return allowed


class OfficeListFilter(admin.SimpleListFilter):
    """Filter by office, offering only the offices the user may see."""

    title = _("office")
    parameter_name = "office"

    def lookups(self, request, model_admin):
        return [(str(office.pk), office.name) for office in staff_offices(request)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return self.model_admin.at_offices(queryset, [int(value)])

    def __init__(self, request, params, model, model_admin):
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)


class OfficeScopedMixin:
    """Scope a model admin's rows to the user's offices, reached through `office_path`.

    Office staff see and change only their offices' rows; supervisors see all of them and
    change none but those of an office they are staff of too.
    """

    office_path = "office"  # "" when the model is Office itself

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_all_offices(request):
            return queryset
        return self.at_offices(queryset, staff_offices(request))

    def at_offices(self, queryset, offices):
        """Narrow rows to those of these offices (a queryset of offices, or their ids)."""
        lookup = f"{self.office_path}__in" if self.office_path else "pk__in"
        return queryset.filter(**{lookup: offices})

    def office_id_of(self, obj):
        if not self.office_path:
            return obj.pk
        *parents, last = self.office_path.split("__")
        for part in parents:
            obj = getattr(obj, part)
        return getattr(obj, f"{last}_id")

    def in_scope(self, request, obj) -> bool:
        if obj is None or sees_all_offices(request):
            return True
        return self.office_id_of(obj) in staff_office_ids(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def may_change(self, request, obj) -> bool:
        """Return whether the user may change this row: one of the offices they are staff of."""
        return obj is None or self.office_id_of(obj) in changeable_office_ids(request)

    def only_changeable(self, request, queryset):
        """Narrow an action's rows to the offices the user may change."""
        return self.at_offices(queryset, changeable_offices(request))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.may_change(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Office:
            kwargs["queryset"] = changeable_offices(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def response_action(self, request, queryset):
        # Actions change rows: only those of the offices the user may change.
        return super().response_action(request, self.only_changeable(request, queryset))

    def changelist_view(self, request, extra_context=None):
        # Django would pass a non-numeric selection to the database and fail with a 500.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if any(not value.isdigit() for value in selected):
            return HttpResponseBadRequest()
        return super().changelist_view(request, extra_context)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if self.office_path == "office" and "office" not in initial:
            offices = list(changeable_offices(request)[:2])
            if len(offices) == 1:
                initial["office"] = offices[0].pk
        return initial


class OfficeScopedAdmin(OfficeScopedMixin, SimpleHistoryAdmin):
    """An office-scoped admin with history: an object outside the user's offices answers
    404 on its history pages too. Reverting from history is off: changes go through the
    services, which check the quotas against what is booked.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def _require_in_scope(self, request, object_id):
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            raise Http404 from None
        if self.get_queryset(request).filter(pk=pk).exists():
            return
        # A deleted object: judge by its last recorded state.
        history = self.model.history.model.objects.filter(**{self.model._meta.pk.attname: pk})
        last = history.order_by("-history_date").first()
        if last is None or not self.in_scope(request, last.instance):
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not str(version_id).isdigit():
            raise Http404
        self._require_in_scope(request, object_id)
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceErrorsAdmin(OfficeScopedAdmin):
    """Turn a service's refusal at save or delete into a message instead of an error page.

    Forms check the same rules first; this catches a change made meanwhile by someone else.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            return self._refused(request, exc)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            return self._refused(request, exc)

    def _refused(self, request, exc):
        for message in exc.messages:
            messages.error(request, message)
        return HttpResponseRedirect(request.get_full_path())


def _service_check(form, check, **kwargs):
    """Run a service's read-only check on the form's instance; put its refusal on the form."""
    if form.errors:
        return
    try:
        check(**kwargs)
    except ValidationError as exc:
        form.add_error(None, exc)


# Offices -------------------------------------------------------------------------------


class OfficeForm(forms.ModelForm):
    class Meta:
        model = Office
        fields = [
            "code",
            "name",
            "city",
            "address",
            "phone",
            "timezone",
            "daily_quota",
            "walk_in_reserve",
            "booking_horizon_days",
            "min_days_ahead",
            "open_weekdays",
            "province_code",
            "release_mode",
            "priority_calls_in_row",
            "online_calls_per_walk_in",
            "skips_before_no_show",
            "staff",
        ]

    def _post_clean(self):
        # The instance carries the new values only after ModelForm's own _post_clean.
        super()._post_clean()
        _service_check(self, services.check_office, office=self.instance)


class ServiceWindowForm(forms.ModelForm):
    class Meta:
        model = ServiceWindow
        fields = ["office", "weekday", "start", "end", "capacity"]

    def _post_clean(self):
        super()._post_clean()
        if self.instance.pk and self.has_changed():
            _service_check(self, services.check_window, window=self.instance)


class ServiceWindowInline(admin.TabularInline):
    model = ServiceWindow
    form = ServiceWindowForm
    extra = 0
    ordering = ["weekday", "start"]


class CounterInline(admin.TabularInline):
    model = Counter
    fields = ["name", "interview", "payment", "pick_up", "clerk"]
    readonly_fields = ["clerk"]
    extra = 0


@admin.register(Office)
class OfficeAdmin(ServiceErrorsAdmin):
    form = OfficeForm
    office_path = ""
    list_display = [
        "name",
        "code",
        "city",
        "timezone",
        "daily_quota",
        "walk_in_reserve",
        "release_mode",
    ]
    list_filter = ["timezone", "release_mode"]
    search_fields = ["name", "code", "city"]
    filter_horizontal = ["staff"]
    inlines = [ServiceWindowInline, CounterInline]
    # Only a superuser changes what an office is; office staff change how it serves.
    identity_fields = ["code", "name", "city", "timezone", "staff"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return []
        return self.identity_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {"code": ["city"]} if request.user.is_superuser else {}

    def save_model(self, request, obj, form, change):
        services.update_office(office=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ServiceWindow:
            return super().save_formset(request, form, formset, change)
        windows = formset.save(commit=False)
        for window in formset.deleted_objects:
            services.delete_window(window=window, by=request.user)
        for window in windows:
            services.save_window(window=window, by=request.user)
        formset.save_m2m()
        return None


@admin.register(ServiceWindow)
class ServiceWindowAdmin(ServiceErrorsAdmin):
    form = ServiceWindowForm
    list_display = ["office", "weekday", "start", "end", "capacity"]
    list_filter = [OfficeListFilter, "weekday"]
    list_select_related = ["office"]
    ordering = ["office__name", "weekday", "start"]

    def save_model(self, request, obj, form, change):
        services.save_window(window=obj, by=request.user)

    def delete_model(self, request, obj):
        services.delete_window(window=obj, by=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


# Day overrides -------------------------------------------------------------------------


class DayOverrideForm(forms.ModelForm):
    class Meta:
        model = DayOverride
        fields = ["office", "date", "closed", "quota", "reason"]

    def _post_clean(self):
        super()._post_clean()
        _service_check(self, services.check_day_override, override=self.instance)


class CloseDaysForm(forms.Form):
    """Close an office, or give it another quota, on a range of days."""

    CLOSED, QUOTA = "closed", "quota"

    office = forms.ModelChoiceField(queryset=Office.objects.none(), label=_("Office"))
    start = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(
        label=_("What changes"),
        choices=[(CLOSED, _("The office is closed")), (QUOTA, _("A different daily quota"))],
        initial=CLOSED,
        widget=forms.RadioSelect,
    )
    quota = forms.IntegerField(
        label=_("Daily quota"),
        required=False,
        min_value=0,
        max_value=10000,
        help_text=_("Only for a different daily quota."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Shown to applicants, e.g. “Cuti bersama Hari Raya Idul Fitri”."),
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices
        if len(offices) == 1:
            self.fields["office"].initial = offices[0].pk

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == self.QUOTA and cleaned.get("quota") is None:
            self.add_error("quota", _("Enter the day's quota."))
        return cleaned


@admin.register(DayOverride)
class DayOverrideAdmin(ServiceErrorsAdmin):
    form = DayOverrideForm
    list_display = ["date", "office", "closed", "quota", "reason"]
    list_filter = [OfficeListFilter, "closed"]
    list_select_related = ["office"]
    search_fields = ["reason"]
    date_hierarchy = "date"
    ordering = ["-date"]
    actions = ["remove_overrides"]

    def get_urls(self):
        return [
            path(
                "close-days/",
                self.admin_site.admin_view(self.close_days_view),
                name="offices_dayoverride_close_days",
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        services.save_day_override(override=obj, by=request.user)

    def delete_model(self, request, obj):
        services.delete_day_override(override=obj, by=request.user)

    @admin.action(description=_("Remove the selected day overrides"), permissions=["delete"])
    def remove_overrides(self, request, queryset):
        for override in queryset.select_related("office"):
            try:
                services.delete_day_override(override=override, by=request.user)
            except ValidationError as exc:
                messages.error(request, f"{override.date:%Y-%m-%d}: {' '.join(exc.messages)}")
            else:
                messages.success(
                    request,
                    _("%(date)s: the usual plan applies again.")
                    % {"date": f"{override.date:%Y-%m-%d}"},
                )

    def close_days_view(self, request):
        """Close a range of days or give them another quota; list a year's holidays."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        offices = changeable_offices(request)
        year = _year(request.GET.get("year"))
        if request.method == "POST":
            form = CloseDaysForm(request.POST, offices=offices)
            if form.is_valid():
                response = self._close_days(request, form)
                if response is not None:
                    return response
        else:
            initial = {
                key: request.GET[key]
                for key in ("office", "start", "end", "kind", "reason")
                if key in request.GET
            }
            form = CloseDaysForm(initial=initial, offices=offices)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Close days or change their quota"),
            "form": form,
            "year": year,
            "years": [year - 1, year + 1],
            "holidays": services.holiday_blocks(year),
            "add_url": reverse("admin:offices_dayoverride_add"),
        }
        return TemplateResponse(request, "admin/offices/dayoverride/close_days.html", context)

    def _close_days(self, request, form):
        data = form.cleaned_data
        closed = data["kind"] == CloseDaysForm.CLOSED
        try:
            result = services.override_days(
                office=data["office"],
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
                closed=closed,
                quota=data["quota"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return None
        count = len(result.overrides)
        if closed:
            text = ngettext("%(count)d day closed.", "%(count)d days closed.", count)
        else:
            text = ngettext(
                "%(count)d day has a different quota.",
                "%(count)d days have a different quota.",
                count,
            )
        messages.success(request, text % {"count": count})
        if result.skipped:
            messages.info(
                request,
                ngettext(
                    "%(count)d day was left as it is: the office does not open on it anyway "
                    "(weekly day off or national holiday).",
                    "%(count)d days were left as they are: the office does not open on them "
                    "anyway (weekly days off or national holidays).",
                    len(result.skipped),
                )
                % {"count": len(result.skipped)},
            )
        url = reverse("admin:offices_dayoverride_changelist")
        return HttpResponseRedirect(f"{url}?office={data['office'].pk}")


def _year(value):
    if value and str(value).isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return timezone.localtime(clock.now()).year


@admin.register(PassportFee)
class PassportFeeAdmin(SimpleHistoryAdmin):
    list_display = ["passport_type", "amount", "legal_basis"]

    def revert_disabled(self, request, obj=None):
        return True
