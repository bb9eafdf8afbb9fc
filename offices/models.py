"""Offices (Kanim), their service windows, counters (loket), day overrides, passport fees and place
counters."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Sum
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Office(models.Model):
    class ReleaseMode(models.TextChoices):
        FIRST_COME = "first_come", _("First come, first served")
        BALLOT = "ballot", _("Ballot")

    class TimeZone(models.TextChoices):
        WIB = "Asia/Jakarta", _("WIB (Asia/Jakarta, UTC+7)")
        WITA = "Asia/Makassar", _("WITA (Asia/Makassar, UTC+8)")
        WIT = "Asia/Jayapura", _("WIT (Asia/Jayapura, UTC+9)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=32, choices=TimeZone.choices, default=TimeZone.WIB
    )
    daily_quota = models.PositiveIntegerField(_("daily quota"), default=150)
    walk_in_reserve = models.PositiveIntegerField(
        _("walk-in reserve"),
        default=15,
        help_text=_("Part of the daily quota kept for walk-ins and priority applicants."),
    )
    booking_horizon_days = models.PositiveIntegerField(
        _("booking horizon (days)"), default=30, validators=[MaxValueValidator(366)]
    )
    min_days_ahead = models.PositiveIntegerField(
        _("first bookable day (days ahead)"),
        default=1,
        validators=[MaxValueValidator(30)],
        help_text=_(
            "0 lets applicants book today's windows that have not begun; 1 means tomorrow."
        ),
    )
    open_weekdays = models.CharField(
        _("opening weekdays"),
        max_length=7,
        default="01234",
        validators=[RegexValidator(r"^[0-6]{1,7}$", _("Use digits 0 (Monday) to 6 (Sunday)."))],
        help_text=_("Digits of the weekdays the office opens: 0 is Monday, 6 is Sunday."),
    )
    province_code = models.CharField(
        _("province code"),
        max_length=2,
        blank=True,
        default="",
        db_default="",
        validators=[RegexValidator(r"^[0-9]{2}$", _("Two digits, such as 16."))],
        help_text=_(
            "The two digits a NIK of this province starts with (16 Sumatera Selatan, 73 "
            "Sulawesi Selatan, 91 Papua): staff see how many applicants come from elsewhere."
        ),
    )
    release_mode = models.CharField(
        _("release of days"),
        max_length=10,
        choices=ReleaseMode.choices,
        default=ReleaseMode.FIRST_COME,
        db_default=ReleaseMode.FIRST_COME,
        help_text=_(
            "First come, first served: each day opens for booking as it enters the booking "
            "horizon. Ballot: days open only by a release on the office's release schedule; "
            "their places are drawn among the entries, and what is left goes to the waiting "
            "list before anyone else."
        ),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        related_name="offices",
        blank=True,
    )
    # How the counters call the checked-in applicants (bookings.queue.order).
    priority_calls_in_row = models.PositiveSmallIntegerField(
        _("priority calls in a row"),
        default=3,
        db_default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_(
            "Priority applicants are called first, but after this many priority calls in a "
            "row the next ordinary applicant is called."
        ),
    )
    online_calls_per_walk_in = models.PositiveSmallIntegerField(
        _("online calls per walk-in"),
        default=3,
        db_default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("After this many applicants with a booking, the next walk-in is called."),
    )
    skips_before_no_show = models.PositiveSmallIntegerField(
        _("skips before a no-show"),
        default=2,
        db_default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_(
            "An applicant who does not answer a call goes to the back of the queue; after "
            "this many skips they are marked as not answering."
        ),
    )
    history = HistoricalRecords(excluded_fields=["staff"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        constraints = [
            models.CheckConstraint(
                condition=Q(walk_in_reserve__lte=models.F("daily_quota")),
                name="office_reserve_within_quota",
                violation_error_message=_("The walk-in reserve cannot exceed the daily quota."),
            ),
            models.CheckConstraint(
                condition=Q(timezone__in=["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]),
                name="office_timezone_indonesian",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def zone(self):
        return ZoneInfo(self.timezone)

    @property
    def zone_abbreviation(self):
        return ZONE_ABBREVIATIONS[self.timezone]

    @property
    def by_ballot(self):
        return self.release_mode == self.ReleaseMode.BALLOT

    @property
    def online_quota(self):
        return self.daily_quota - self.walk_in_reserve

    def local_now(self, now):
        return now.astimezone(self.zone)

    def local_datetime(self, day, time):
        """Return the aware instant of a local date and time at this office."""
        return datetime.combine(day, time, tzinfo=self.zone)

    def today(self, now) -> date:
        """Return the office's own date at the instant `now` (WIB, WITA or WIT)."""
        return self.local_now(now).date()

    def first_bookable_day(self, now):
        return self.today(now) + timedelta(days=self.min_days_ahead)

    def last_bookable_day(self, now):
        return self.today(now) + timedelta(days=self.booking_horizon_days)

    def opens_on_weekday(self, weekday):
        return str(weekday) in self.open_weekdays

    def clean(self):
        if self.timezone not in ZONE_ABBREVIATIONS:
            raise ValidationError({"timezone": _("Choose WIB, WITA or WIT.")})
        quota, reserve = self.daily_quota, self.walk_in_reserve
        if quota is not None and reserve is not None and reserve > quota:
            raise ValidationError(
                {"walk_in_reserve": _("The walk-in reserve cannot exceed the daily quota.")}
            )


class ServiceWindow(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="windows", verbose_name=_("office")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))
    capacity = models.PositiveIntegerField(_("capacity"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["office", "weekday", "start"]
        verbose_name = _("service window")
        verbose_name_plural = _("service windows")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")),
                name="window_starts_before_end",
                violation_error_message=_("A window must start before it ends."),
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="window_weekday_valid"
            ),
            models.UniqueConstraint(
                fields=["office", "weekday", "start"], name="window_unique_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.label}"

    @property
    def label(self):
        return f"{self.start:%H.%M}–{self.end:%H.%M}"

    def clean(self):
        if self.start and self.end and self.start >= self.end:
            raise ValidationError({"end": _("A window must start before it ends.")})
        if not self.office_id or self.weekday is None or not (self.start and self.end):
            return
        siblings = ServiceWindow.objects.filter(office_id=self.office_id, weekday=self.weekday)
        if self.pk:
            siblings = siblings.exclude(pk=self.pk)
        if siblings.filter(start__lt=self.end, end__gt=self.start).exists():
            raise ValidationError(_("This window overlaps another window of the same weekday."))
        others = siblings.aggregate(total=Sum("capacity"))["total"] or 0
        office = self.office
        if self.capacity is not None and others + self.capacity > office.online_quota:
            raise ValidationError(
                {
                    "capacity": _(
                        "The windows of this weekday would hold %(total)d places, more than "
                        "the %(limit)d the daily quota leaves after the walk-in reserve."
                    )
                    % {"total": others + self.capacity, "limit": office.online_quota}
                }
            )


class Counter(models.Model):
    """A counter (loket) of an office: the services it gives and the clerk signed in to it."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="counters", verbose_name=_("office")
    )
    name = models.CharField(_("name"), max_length=40, help_text=_("As the display shows it."))
    interview = models.BooleanField(
        _("photo and interview"),
        default=True,
        help_text=_("Calls the checked-in applicants: the queue numbers A, B and P."),
    )
    payment = models.BooleanField(_("payment"), default=False)
    pick_up = models.BooleanField(_("passport pick-up"), default=False)
    clerk = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counter",
        verbose_name=_("clerk signed in"),
        editable=False,
    )
    history = HistoricalRecords(excluded_fields=["clerk"])

    class Meta:
        ordering = ["office", "name"]
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "name"],
                name="counter_unique_name",
                violation_error_message=_("This office already has a counter of this name."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def services(self) -> list[str]:
        """Return the names of the services it gives, in the order the display shows them."""
        flags = [("interview", self.interview), ("payment", self.payment)]
        flags.append(("pick_up", self.pick_up))
        return [str(self._meta.get_field(name).verbose_name) for name, on in flags if on]


class DayOverride(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("office")
    )
    date = models.DateField(_("date"))
    closed = models.BooleanField(
        _("closed"),
        default=True,
        help_text=_("Untick to open the office on a day it would otherwise be closed."),
    )
    quota = models.PositiveIntegerField(
        _("daily quota"),
        null=True,
        blank=True,
        help_text=_("Leave empty to keep the office's usual quota."),
    )
    reason = models.CharField(_("reason"), max_length=200)
    # The ids of the sessions that do not run that day, the others running as usual: a
    # session closed by an outage (bookings.closures). Kept here, where the day's plan is read.
    closed_windows = models.JSONField(
        _("closed sessions"), default=list, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["office", "date"]
        verbose_name = _("day override")
        verbose_name_plural = _("day overrides")
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="override_one_per_day"),
        ]

    def __str__(self):
        return f"{self.office} {self.date}: {self.reason}"

    def clean(self):
        if self.closed and self.quota is not None:
            raise ValidationError({"quota": _("A closed day has no quota.")})


class PassportFee(models.Model):
    """The state fee (PNBP) for a passport type: data that changes with regulations."""

    passport_type = models.CharField(_("passport type"), max_length=20, unique=True)
    amount = models.PositiveIntegerField(_("amount (Rp)"))
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["amount"]
        verbose_name = _("passport fee")
        verbose_name_plural = _("passport fees")

    def __str__(self):
        return f"{self.passport_type}: Rp {self.amount}"


# Place counters: the quotas the database holds (changed only through offices.places) ----


class OfficeDay(models.Model):
    """Places counted for one office-day; CHECK constraints make overbooking impossible."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    quota = models.PositiveIntegerField(_("daily quota"))
    online_quota = models.PositiveIntegerField(_("online quota"))
    booked = models.PositiveIntegerField(_("booked"), default=0)
    online_booked = models.PositiveIntegerField(_("booked outside the reserve"), default=0)
    last_queue_a = models.PositiveIntegerField(default=0)
    last_queue_b = models.PositiveIntegerField(default=0)
    last_queue_p = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["office", "date"]
        verbose_name = _("office day")
        verbose_name_plural = _("office days")
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="officeday_unique"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("quota")), name="officeday_within_quota"
            ),
            models.CheckConstraint(
                condition=Q(online_booked__lte=F("online_quota")),
                name="officeday_within_online_quota",
            ),
            models.CheckConstraint(
                condition=Q(online_quota__lte=F("quota")), name="officeday_online_within_quota"
            ),
        ]

    def __str__(self):
        return f"{self.office} {self.date}: {self.booked}/{self.quota}"


class WindowDay(models.Model):
    """Places counted for one service window on one date."""

    window = models.ForeignKey(ServiceWindow, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(_("booked"), default=0)

    class Meta:
        ordering = ["date", "window"]
        verbose_name = _("window day")
        verbose_name_plural = _("window days")
        constraints = [
            models.UniqueConstraint(fields=["window", "date"], name="windowday_unique"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="windowday_within_capacity"
            ),
        ]

    def __str__(self):
        return f"{self.window} {self.date}: {self.booked}/{self.capacity}"
