"""Admin for bookings and notifications: read-only rows, changes only through services.

Office staff see their offices' bookings; actions check in, mark no-shows and cancel with
a reason through bookings.services. The staff pages (today, walk-in, ticket) are mounted
here, under /admin/bookings/booking/.
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from offices import clock
from offices.access import is_supervisor, staff_office_ids
from offices.admin import (
    ListFiltersOnlyMixin,
    OfficeListFilter,
    OfficeScopedMixin,
)

from . import ballots, services
from .applicants import clean_nik
from .codes import CODE_LENGTH, normalize_code
from .models import (
    Block,
    Booking,
    Closure,
    ClosureMove,
    NikRelease,
    Notification,
    Outage,
    Release,
    ReleaseSchedule,
)
from .nik import as_nik, mask_phone
from .notifications.outbox import retry_notification
from .phone import normalize_phone
from .staff import closures as staff_closures
from .staff import views as staff_views
from .staff.forms import CancelForm


class ReadOnlyRowsMixin:
    """Rows are shown, never added, edited or deleted here; actions may still change them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # obj=None asks about actions on the list; a single row's page is read-only.
        return obj is None and super().has_change_permission(request, obj)


def _report(model_admin, request, subject, exc):
    model_admin.message_user(request, f"{subject.code}: {' '.join(exc.messages)}", messages.ERROR)


@admin.register(Booking)
class BookingAdmin(ReadOnlyRowsMixin, ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "group_code",
        "date",
        "window_label",
        "status",
        "channel",
        "nik_masked",
        "phone_masked",
        "queue_number",
        "birth_date_mismatch",
        "office",
    ]
    list_filter = [
        "status",
        "channel",
        "date",
        OfficeListFilter,
        "birth_date_mismatch",
    ]
    list_select_related = ["office", "window", "group"]
    search_fields = ["=code"]  # see get_search_results: a code, a group's code, an exact NIK
    search_help_text = _("A booking code, a group code, or the applicant's full NIK.")
    show_full_result_count = False
    extra_lookups = ["id__in"]  # the NIK search answers with the bookings' ids
    ordering = ["-date", "starts_at", "created_at"]
    actions = ["check_in_bookings", "mark_no_shows", "cancel_bookings"]
    fields = [
        "code",
        "group",
        "office",
        "date",
        "window_label",
        "channel",
        "status",
        "queue_number",
        "walk_in_reason",
        "uses_reserve",
        "override_reason",
        "nik_masked",
        "full_name",
        "birth_date",
        "birth_date_mismatch",
        "phone_masked",
        "email",
        "purpose",
        "passport_type",
        "application_type",
        "language",
        "reschedule_count",
        "cancel_reason",
        "created_at",
        "checked_in_at",
        "cancelled_at",
        "created_by",
    ]
    readonly_fields = fields

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(partial(function, model_admin=self))

        return [
            path("today/", view(staff_views.today), name="bookings_booking_today"),
            path("check-in/", view(staff_views.check_in), name="bookings_booking_check_in"),
            path("counter/", view(staff_views.counter), name="bookings_booking_counter"),
            path("walk-in/", view(staff_views.walk_in), name="bookings_booking_walk_in"),
            path("find/", view(staff_views.find), name="bookings_booking_find"),
            path("signals/", view(staff_views.signals), name="bookings_booking_signals"),
            path(
                "release-nik/",
                view(staff_views.release_nik),
                name="bookings_booking_release_nik",
            ),
            path(
                "resend-failed/",
                view(staff_views.resend_failed),
                name="bookings_booking_resend_failed",
            ),
            path("close/", view(staff_closures.close_day), name="bookings_booking_close"),
            path(
                "close-offices/",
                view(staff_closures.close_offices),
                name="bookings_booking_close_offices",
            ),
            path("<int:pk>/ticket/", view(staff_views.ticket), name="bookings_booking_ticket"),
            *super().get_urls(),
        ]

    @admin.display(description=_("group code"), ordering="group__code")
    def group_code(self, obj):
        return obj.group.code if obj.group_id else ""

    @admin.display(description=_("service window"), ordering="starts_at")
    def window_label(self, obj):
        return obj.window.label if obj.window_id else _("Walk-in")

    @admin.display(description=_("NIK"))
    def nik_masked(self, obj):
        return obj.masked_nik

    @admin.display(description=_("mobile phone"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)

    def changelist_view(self, request, extra_context=None):
        # A NIK typed into the address would show again in every filter link: answer with
        # the bookings' ids instead.
        nik = as_nik(request.GET.get("q", ""))
        if nik:
            return HttpResponseRedirect(staff_views.nik_results_url(request, self, nik))
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        nik = as_nik(term)
        if nik:
            return queryset.filter(nik=nik), False
        code = normalize_code(term)
        if not code:
            return queryset.none(), False
        if len(code) > CODE_LENGTH:  # only a group's code is this long: its members
            return queryset.filter(group__code__startswith=code), False
        return queryset.filter(code__startswith=code), False

    @admin.action(description=_("Check in (give a queue number)"), permissions=["change"])
    def check_in_bookings(self, request, queryset):
        now = clock.now()
        for booking in list(queryset.select_related("office")):
            try:
                done = services.check_in(
                    office=booking.office, code=booking.code, by=request.user, now=now
                )
            except ValidationError as exc:
                _report(self, request, booking, exc)
            else:
                self.message_user(
                    request,
                    _("%(code)s checked in: queue number %(number)s.")
                    % {"code": done.code, "number": done.queue_number},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Mark as no-show"), permissions=["change"])
    def mark_no_shows(self, request, queryset):
        now = clock.now()
        for booking in list(queryset):
            try:
                services.mark_no_show(booking=booking, by=request.user, now=now)
            except ValidationError as exc:
                _report(self, request, booking, exc)
            else:
                self.message_user(
                    request,
                    _("%(code)s marked as no-show.") % {"code": booking.code},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Cancel, with a reason for the applicant"), permissions=["change"])
    def cancel_bookings(self, request, queryset):
        form = CancelForm(request.POST if "apply" in request.POST else None)
        bookings = list(queryset.select_related("window"))
        if form.is_bound and form.is_valid():
            now = clock.now()
            for booking in bookings:
                try:
                    services.cancel_booking(
                        booking=booking,
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                        now=now,
                    )
                except ValidationError as exc:
                    _report(self, request, booking, exc)
                else:
                    self.message_user(
                        request,
                        _("%(code)s cancelled; the applicant is told.") % {"code": booking.code},
                        messages.SUCCESS,
                    )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Cancel bookings"),
            "bookings": bookings,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/bookings/booking/cancel_selected.html", context)


def subject_of(notification):
    """Return what a message is about: its booking, its group, or a ballot entry."""
    if notification.entry_id is not None:
        return notification.entry
    return notification.booking if notification.group_id is None else notification.group


@admin.register(Notification)
class NotificationAdmin(
    ReadOnlyRowsMixin, ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin
):
    office_path = "booking__office"  # or the group's: see at_offices and office_id_of
    list_display = ["about", "kind", "channel", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind", "channel", OfficeListFilter]
    list_select_related = ["booking", "group", "entry"]
    search_fields = ["=booking__code"]
    search_help_text = _("A booking code, a group code or a ballot entry's code.")
    show_full_result_count = False
    actions = ["retry"]
    fields = [
        "booking",
        "group",
        "entry",
        "kind",
        "channel",
        "sequence",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields

    def at_offices(self, queryset, offices):
        # A message has three paths to its office: its booking's, its group's members' (who
        # share their office; one of them booked there is enough), or its entry's release's.
        group_there = Booking.objects.filter(group=OuterRef("group"), office__in=offices)
        return queryset.filter(
            Q(booking__office__in=offices)
            | Exists(group_there)
            | Q(entry__release__office__in=offices)
        )

    def office_id_of(self, obj):
        if obj.entry_id is not None:
            return obj.entry.release.office_id
        if obj.group_id is None:
            return obj.booking.office_id
        return obj.group.members.order_by("pk").values_list("office_id", flat=True).first()

    @admin.display(description=_("booking, group or entry"))
    def about(self, obj):
        return subject_of(obj).code

    def get_search_results(self, request, queryset, search_term):
        code = normalize_code(search_term)
        if not code:
            return queryset, False
        if len(code) > CODE_LENGTH:  # only a group's code is this long
            return queryset.filter(group__code__startswith=code), False
        entries = queryset.filter(entry__code__startswith=code)
        # A member's code finds the messages about its group too.
        groups = Booking.objects.filter(code__startswith=code, group__isnull=False)
        return queryset.filter(
            Q(booking__code__startswith=code)
            | Q(group__in=groups.values("group"))
            | Q(pk__in=entries.values("pk"))
        ), False

    @admin.action(description=_("Send again"), permissions=["change"])
    def retry(self, request, queryset):
        for notification in list(queryset.select_related("booking", "group", "entry")):
            try:
                retry_notification(notification=notification)
            except ValidationError as exc:
                _report(self, request, subject_of(notification), exc)
            else:
                self.message_user(
                    request,
                    _("%(code)s: the %(kind)s will be sent again.")
                    % {
                        "code": subject_of(notification).code,
                        "kind": notification.get_kind_display(),
                    },
                    messages.SUCCESS,
                )


@admin.register(Release)
class ReleaseAdmin(ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin):
    """Ballot releases: made through bookings.ballots with a secret seed; once made, only the
    public value is typed in (until the draw). The list, the draw and the waiting list are
    nobody's to change."""

    list_display = [
        "office",
        "first_day",
        "last_day",
        "closes_at",
        "draw_at",
        "state",
        "entry_count",
    ]
    list_filter = ["state", OfficeListFilter]
    list_select_related = ["office"]
    fields = [
        "office",
        "first_day",
        "last_day",
        "opens_at",
        "closes_at",
        "draw_at",
        "public_value_source",
        "public_value",
        "seed_hash",
        "state",
        "entry_count",
        "entries_hash",
        "drawn_at",
    ]
    made = ["seed_hash", "state", "entry_count", "entries_hash", "drawn_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_total=Count("entries"))

    @admin.display(description=_("entries"), ordering="entry_total")
    def entry_count(self, obj):
        return getattr(obj, "entry_total", 0)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return [*self.made, "public_value"]  # typed in when it is announced
        return [name for name in self.fields if name != "public_value"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Below the release's fields: entries against places, the waiting list, the offers.
        release = self.get_object(request, unquote(object_id))
        record = {"record": ballots.release_record(release)} if release is not None else {}
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **record}
        )

    def may_change(self, request, obj) -> bool:
        # The public value is typed by a supervisor, whichever office it is.
        return is_supervisor(request.user) or super().may_change(request, obj)

    def only_changeable(self, request, queryset):
        return (
            queryset if is_supervisor(request.user) else super().only_changeable(request, queryset)
        )

    def has_change_permission(self, request, obj=None):
        # A drawn release is shown, never changed: its record is what anyone checks.
        drawn = obj is not None and obj.state == Release.State.DRAWN
        return not drawn and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        # Releases come from the schedules; a superuser may make one by hand.
        return request.user.is_superuser

    actions = ["draw_now"]

    @admin.action(
        description=_("Draw now (a late draw, with its public value)"), permissions=["change"]
    )
    def draw_now(self, request, queryset):
        for release in queryset:
            try:
                drawn = ballots.draw_release(release=release)
            except ValidationError as exc:
                self.message_user(request, f"{release}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(release)s: drawn.") % {"release": drawn}, messages.SUCCESS
                )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.public_value = ballots.set_public_value(
                release=obj, value=form.cleaned_data["public_value"]
            ).public_value
            return
        made = ballots.make_release(**{name: form.cleaned_data[name] for name in RELEASE_FIELDS})
        obj.pk, obj.seed_hash = made.pk, made.seed_hash


@admin.register(NikRelease)
class NikReleaseAdmin(ReadOnlyRowsMixin, ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin):
    """NIKs freed at a counter: each office sees those of its bookings and those its clerks
    made; supervisors see every one."""

    list_display = ["created_at", "booking_code", "held_at", "office", "released_by", "reason"]
    list_select_related = ["booking__office", "office", "released_by"]
    list_filter = [OfficeListFilter]
    fields = ["booking", "office", "released_by", "reason", "created_at"]
    readonly_fields = fields

    def at_offices(self, queryset, offices):
        return queryset.filter(Q(office__in=offices) | Q(booking__office__in=offices))

    def in_scope(self, request, obj) -> bool:
        if obj is None or is_supervisor(request.user):
            return True
        mine = staff_office_ids(request)
        return obj.office_id in mine or obj.booking.office_id in mine

    @admin.display(description=_("booking"), ordering="booking__code")
    def booking_code(self, obj):
        return obj.booking.code

    @admin.display(description=_("held at"), ordering="booking__office__name")
    def held_at(self, obj):
        return obj.booking.office.name


class BlockForm(forms.ModelForm):
    """A block's value, stored as bookings store it so that the check finds it."""

    value = forms.CharField(
        label=_("Number, address or NIK"),
        max_length=254,
        help_text=_("As the person typed it: it is checked and stored as bookings store it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = Block
        fields = ["office", "kind", "value", "reason", "until"]

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if not (kind and value):
            return cleaned
        try:
            if kind == Block.Kind.NIK:
                cleaned["value"] = clean_nik(value)
            elif kind == Block.Kind.PHONE:
                cleaned["value"] = normalize_phone(value)
            else:
                cleaned["value"] = forms.EmailField().clean(value).strip().lower()
        except ValidationError as exc:
            self.add_error("value", exc)
        return cleaned


@admin.register(Block)
class BlockAdmin(ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin):
    """Phone numbers, e-mail addresses and NIKs that may not book online until a date. Set by
    staff with a reason the person is shown; never set by the system."""

    form = BlockForm
    list_display = ["masked_value", "kind", "until", "reason", "office", "created_by"]
    list_filter = ["kind", OfficeListFilter]
    list_select_related = ["office", "created_by"]

    def get_fields(self, request, obj=None):
        # Once set, the value is shown masked: to change it, end this block and set another.
        if obj is None:
            return ["office", "kind", "value", "reason", "until"]
        return ["office", "kind", "masked_value", "reason", "until"]

    def get_readonly_fields(self, request, obj=None):
        return ["office", "kind", "masked_value"] if obj is not None else []

    @admin.display(description=_("number, address or NIK"))
    def masked_value(self, obj):
        return obj.masked_value

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ReleaseSchedule)
class ReleaseScheduleAdmin(ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin):
    """When an office on a ballot releases its days; releases are made from it a week ahead.

    A change applies to the releases made after it; a release already made keeps its times.
    """

    list_display = ["office", "weekday", "opens_at", "days_ahead", "days", "active"]
    list_filter = ["active", OfficeListFilter]
    list_select_related = ["office"]
    fields = [
        "office",
        "weekday",
        "opens_at",
        "days_ahead",
        "days",
        "entry_hours",
        "draw_hours",
        "public_value_source",
        "active",
    ]


RELEASE_FIELDS = (
    "office",
    "first_day",
    "last_day",
    "opens_at",
    "closes_at",
    "draw_at",
    "public_value_source",
)


class ClosureMoveInline(admin.TabularInline):
    """What the closure did to each booking, and the applicant's answer; no personal data
    beyond the name a clerk calls out."""

    model = ClosureMove
    extra = 0
    can_delete = False
    fields = [
        "booking_code",
        "applicant",
        "from_window",
        "outcome",
        "to_date",
        "to_window",
        "choose_until",
        "answer",
        "answered_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("booking", "from_window", "to_window")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("booking"))
    def booking_code(self, obj):
        return obj.booking.code

    @admin.display(description=_("applicant"))
    def applicant(self, obj):
        return obj.booking.full_name


@admin.register(Closure)
class ClosureAdmin(ReadOnlyRowsMixin, ListFiltersOnlyMixin, OfficeScopedMixin, admin.ModelAdmin):
    """Days closed after their bookings were made, and where each applicant went; office
    staff see their offices', supervisors every one."""

    list_display = ["date", "office", "sessions", "reason", "moved", "cancelled", "created_by"]
    list_select_related = ["office", "created_by"]
    list_filter = [OfficeListFilter]
    date_hierarchy = "date"
    fields = [
        "office",
        "date",
        "sessions",
        "reason",
        "raised_quota",
        "moved",
        "cancelled",
        "outage",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [ClosureMoveInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("windows")

    @admin.display(description=_("sessions"))
    def sessions(self, obj):
        windows = sorted(obj.windows.all(), key=lambda w: w.start)
        return ", ".join(w.label for w in windows) if windows else _("The whole day")


@admin.register(Outage)
class OutageAdmin(ReadOnlyRowsMixin, admin.ModelAdmin):
    """Closures of many offices at once, decided by a supervisor."""

    list_display = ["date", "starts", "ends", "reason", "created_by", "created_at"]
    fields = ["date", "starts", "ends", "reason", "created_by", "created_at"]
    readonly_fields = fields
