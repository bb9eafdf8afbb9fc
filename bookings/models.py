"""Bookings, their visits at the office and the notification outbox."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from offices.models import Counter, Office, ServiceWindow, Weekday

from .nik import mask_email, mask_nik, mask_phone


class BookingQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Booking.ACTIVE_STATUSES)

    def on_day(self, office, day):
        return self.filter(office=office, date=day)


class BookingGroup(models.Model):
    """Applicants booked together in one window: a family, an umrah group.

    Every member is a booking of its own (code, queue number, check-in); the group's code opens
    them all. Members share the office, day and window, and the contact: a member moved alone
    leaves the group. The group holds no personal data of its own.
    """

    code = models.CharField(_("group code"), max_length=12, unique=True)
    # Raised with each move of the whole group: each move gets its own message, as a booking's.
    reschedule_count = models.PositiveSmallIntegerField(_("reschedules"), default=0)
    # As Booking.link_version: raised when a link from a message is exchanged for a session.
    link_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("group booking")
        verbose_name_plural = _("group bookings")

    def __str__(self):
        return self.code


class Booking(models.Model):
    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        WALK_IN = "walk_in", _("Walk-in")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CHECKED_IN = "checked_in", _("Checked in")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    class Purpose(models.TextChoices):
        UMRAH = "umrah", _("Umrah")
        HAJJ = "hajj", _("Hajj")
        TOURISM = "tourism", _("Tourism")
        WORK = "work", _("Work")
        STUDY = "study", _("Study")
        FAMILY = "family", _("Family visit")
        OTHER = "other", _("Other")

    class PassportType(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary passport, 48 pages")
        ELECTRONIC = "electronic", _("Electronic passport")

    class ApplicationType(models.TextChoices):
        NEW = "new", _("New passport")
        RENEWAL = "renewal", _("Passport renewal")

    class WalkInReason(models.TextChoices):
        ELDERLY = "elderly", _("Elderly (60 years or older)")
        DISABILITY = "disability", _("Person with a disability")
        PREGNANT = "pregnant", _("Pregnant woman")
        CHILD = "child", _("Child under 5")
        SICK = "sick", _("Sick")
        FAR_AWAY = "far_away", _("Lives far away")
        OTHER = "other", _("Other")

    # A booking that holds its place: counted against the quotas, shown as taken.
    ACTIVE_STATUSES = (Status.BOOKED, Status.CHECKED_IN)

    PRIORITY_REASONS = frozenset(
        {
            WalkInReason.ELDERLY,
            WalkInReason.DISABILITY,
            WalkInReason.PREGNANT,
            WalkInReason.CHILD,
            WalkInReason.SICK,
        }
    )

    code = models.CharField(_("booking code"), max_length=12, unique=True)
    # No index of its own: booking_office_day (office, date, status) serves a look-up by office.
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("office"),
        db_index=False,
    )
    date = models.DateField(_("date"))
    window = models.ForeignKey(
        ServiceWindow,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("service window"),
        null=True,
        blank=True,
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.BOOKED
    )
    uses_reserve = models.BooleanField(_("uses the walk-in reserve"), default=False)
    walk_in_reason = models.CharField(
        _("walk-in reason"), max_length=12, choices=WalkInReason.choices, blank=True
    )
    override_reason = models.TextField(_("reason for exceeding the quota"), blank=True)

    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("full name as on the KTP"), max_length=120)
    birth_date = models.DateField(_("birth date"), null=True)  # empty once forgotten
    birth_date_mismatch = models.BooleanField(
        _("birth date differs from the NIK"),
        default=False,
        help_text=_("Check the KTP at the counter."),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=16, blank=True)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    passport_type = models.CharField(
        _("passport type"),
        max_length=10,
        choices=PassportType.choices,
        default=PassportType.ORDINARY,
    )
    application_type = models.CharField(
        _("application"),
        max_length=10,
        choices=ApplicationType.choices,
        default=ApplicationType.NEW,
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="id"
    )

    group = models.ForeignKey(
        BookingGroup,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("group"),
        null=True,
        blank=True,
    )
    queue_number = models.CharField(_("queue number"), max_length=8, blank=True)
    reschedule_count = models.PositiveSmallIntegerField(_("reschedules"), default=0)
    # The moves of reschedule_count the office made (a closure), not the applicant: they
    # count for the messages' sequence but not against the applicant's own reschedules.
    office_moves = models.PositiveSmallIntegerField(
        _("moves by the office"), default=0, db_default=0, editable=False
    )
    # Raised each time a link from a message is exchanged for a browser session: every link
    # sent before stops working (notifications.links).
    link_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # A keyed hash of the address it was booked from (antrean.client_ip.client_key): staff
    # see many NIKs booked from one address without the address being kept.
    client = models.CharField(
        _("client"), max_length=16, blank=True, default="", db_default="", editable=False
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # When the applicant's personal data was removed, RETENTION_DAYS after the appointment.
    forgotten_at = models.DateTimeField(_("personal data removed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["date", "starts_at", "created_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["nik"],
                condition=Q(status="booked"),
                name="booking_one_active_per_nik",
                violation_error_message=_("This NIK already holds an active booking."),
            ),
            models.UniqueConstraint(
                fields=["office", "date", "queue_number"],
                condition=~Q(queue_number=""),
                name="booking_queue_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(channel="walk_in") | Q(window__isnull=False),
                name="booking_online_has_window",
            ),
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="booking_times"),
        ]
        indexes = [
            models.Index(fields=["office", "date", "status"], name="booking_office_day"),
            models.Index(fields=["status", "starts_at"], name="booking_status_start"),
            # The active bookings of one contact, counted at each booking (services).
            models.Index(fields=["phone"], condition=Q(status="booked"), name="booking_phone"),
            models.Index(fields=["email"], condition=Q(status="booked"), name="booking_email"),
        ]

    def __str__(self):
        return self.code

    @property
    def masked_nik(self):
        return mask_nik(self.nik)

    @property
    def is_priority(self):
        return self.walk_in_reason in self.PRIORITY_REASONS

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    def can_cancel(self, now, *, by_staff=False) -> bool:
        """Return whether it can still be cancelled: applicants until the window begins, staff
        until it ends."""
        deadline = self.ends_at if by_staff else self.starts_at
        return self.status == self.Status.BOOKED and deadline > now

    def reschedule_refusal(self, now) -> str:
        """Return why the booking can no longer be rescheduled (an error code), or ""."""
        if self.status != self.Status.BOOKED or self.starts_at <= now:
            return "not_reschedulable"
        if self.reschedule_count - self.office_moves >= settings.BOOKING_MAX_RESCHEDULES:
            return "reschedule_limit"
        return ""

    def can_reschedule(self, now) -> bool:
        return not self.reschedule_refusal(now)


class Visit(models.Model):
    """An applicant's turn at the office: from check-in through a counter's call and service.

    Made at check-in (bookings.services); each later step is a change in bookings.queue.calls,
    and every step's time is kept, so waits are measured (bookings.reports.waits).
    """

    class Line(models.TextChoices):
        ONLINE = "A", _("Booked online")
        WALK_IN = "B", _("Walk-in")
        PRIORITY = "P", _("Priority")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        CALLED = "called", _("Called")
        SERVING = "serving", _("Being served")
        DONE = "done", _("Finished")
        MISSED = "missed", _("Did not answer")

    # At a counter: called and not yet finished. A counter has at most one such visit.
    AT_COUNTER = (State.CALLED, State.SERVING)

    booking = models.OneToOneField(
        Booking, on_delete=models.CASCADE, related_name="visit", verbose_name=_("booking")
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="visits", verbose_name=_("office")
    )
    date = models.DateField(_("date"))
    line = models.CharField(_("line"), max_length=1, choices=Line.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.WAITING)
    # The place in its line, earliest first: the booked window's start for the online line,
    # the check-in for the others; the moment of a skip sends it to the back.
    queued_at = models.DateTimeField(_("in the queue from"))
    counter = models.ForeignKey(
        Counter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("counter"),
    )
    calls = models.PositiveSmallIntegerField(_("calls"), default=0)
    skips = models.PositiveSmallIntegerField(_("skips"), default=0)
    called_at = models.DateTimeField(_("first called"), null=True, blank=True)
    last_called_at = models.DateTimeField(_("last called"), null=True, blank=True)
    serving_at = models.DateTimeField(_("service started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called by"),
    )

    class Meta:
        ordering = ["date", "queued_at"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(
                fields=["counter"],
                condition=Q(state__in=["called", "serving"]),
                name="visit_one_per_counter",
                violation_error_message=_("This counter is already serving an applicant."),
            ),
            models.CheckConstraint(
                condition=Q(state="waiting") | Q(called_at__isnull=False),
                name="visit_called_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["office", "date", "line", "queued_at"],
                condition=Q(state="waiting"),
                name="visit_waiting",
            ),
            models.Index(fields=["office", "date", "last_called_at"], name="visit_calls"),
        ]

    def __str__(self):
        return f"{self.booking.queue_number} ({self.get_state_display()})"


class NikRelease(models.Model):
    """A NIK freed at a counter: a clerk who checked the KTP cancelled the booking that someone
    else held under it (at any office), so its holder can book at once."""

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="nik_releases", verbose_name=_("booking")
    )
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("released at"),
        help_text=_("The office whose clerk checked the KTP."),
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("released by"),
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("released"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("NIK released at a counter")
        verbose_name_plural = _("NIKs released at a counter")

    def __str__(self):
        return f"{self.booking} ({self.office})"


class Block(models.Model):
    """A phone number, e-mail address or NIK that may not book or enter a ballot online until
    a date, set by staff with a reason the person is shown (and can ask about at any office).
    Nothing sets one by itself."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Mobile phone")
        EMAIL = "email", _("E-mail")
        NIK = "nik", _("NIK")

    kind = models.CharField(_("what"), max_length=5, choices=Kind.choices)
    # As bookings store it: +628…, lower-case e-mail, 16 digits.
    value = models.CharField(_("number, address or NIK"), max_length=254)
    reason = models.CharField(
        _("reason"), max_length=200, help_text=_("Shown to the person when they try to book.")
    )
    until = models.DateField(_("blocked until"), help_text=_("The last day of the block."))
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("set at")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set by"),
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("set"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        indexes = [models.Index(fields=["value", "until"], name="block_value_until")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.masked_value}"

    @property
    def masked_value(self) -> str:
        if self.kind == self.Kind.NIK:
            return mask_nik(self.value)
        if self.kind == self.Kind.PHONE:
            return mask_phone(self.value)
        return mask_email(self.value)


# A notification or a contact check is about exactly one of a booking, a group, an entry.
ONE_SUBJECT = (
    Q(booking__isnull=False, group__isnull=True, entry__isnull=True)
    | Q(booking__isnull=True, group__isnull=False, entry__isnull=True)
    | Q(booking__isnull=True, group__isnull=True, entry__isnull=False)
)


class Notification(models.Model):
    """One message about a booking on one channel: the outbox a Celery worker delivers."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation")
        REMINDER = "reminder", _("Reminder")
        CANCELLATION = "cancellation", _("Cancellation")
        RESCHEDULE = "reschedule", _("Reschedule")
        WAITING = "waiting", _("Waiting list place")
        OFFER = "offer", _("Offer of a freed place")
        MOVED = "moved", _("Moved: office closed")
        CLOSED = "closed", _("Cancelled: office closed")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # What the message is about: one booking, or a whole group (to the contact they share).
    # Each subject is found through its unique constraint below, which begins with it: an
    # index of its own would only be written at each of the millions of rows (two a booking).
    booking = models.ForeignKey(
        Booking,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("booking"),
        null=True,
        blank=True,
        db_index=False,
    )
    group = models.ForeignKey(
        BookingGroup,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("group"),
        null=True,
        blank=True,
        db_index=False,
    )
    # Or a ballot entry: its place on the waiting list, a freed place offered to it.
    entry = models.ForeignKey(
        "Entry",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("ballot entry"),
        null=True,
        blank=True,
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    # The booking's reschedule count when written: each reschedule gets its own message.
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # When the relay queues a pending row (again) if nothing has sent it by then.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "channel", "sequence"],
                name="notification_once_per_change",
            ),
            models.UniqueConstraint(
                fields=["group", "kind", "channel", "sequence"],
                name="notification_once_per_group_change",
            ),
            models.UniqueConstraint(
                fields=["entry", "kind", "channel", "sequence"],
                name="notification_once_per_entry_change",
            ),
            models.CheckConstraint(condition=ONE_SUBJECT, name="notification_one_subject"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_pending"),
            models.Index(fields=["status", "next_attempt_at"], name="notification_next_attempt"),
        ]

    def __str__(self):
        subject = self.booking_id or (f"G{self.group_id}" if self.group_id else f"E{self.entry_id}")
        return f"{self.get_kind_display()} {self.get_channel_display()} {subject}"


class ReleaseSchedule(models.Model):
    """When an office on a ballot releases its days: each week, at a weekday and local time,
    entries open for a run of days some days ahead; they close, then the draw follows."""

    office = models.OneToOneField(
        Office,
        on_delete=models.CASCADE,
        related_name="release_schedule",
        verbose_name=_("office"),
    )
    weekday = models.PositiveSmallIntegerField(
        _("entries open on"), choices=Weekday.choices, default=Weekday.FRIDAY
    )
    opens_at = models.TimeField(_("at (office's local time)"), default=time(14, 0))
    days_ahead = models.PositiveSmallIntegerField(
        _("first day released (days after entries open)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("10 from a Friday is the Monday of the week after next."),
    )
    days = models.PositiveSmallIntegerField(
        _("days released"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(7)],
        help_text=_("One release a week covers at most seven days."),
    )
    entry_hours = models.PositiveSmallIntegerField(
        _("entries stay open (hours)"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    draw_hours = models.PositiveSmallIntegerField(
        _("the draw (hours after entries close)"),
        default=20,
        validators=[MaxValueValidator(24 * 7)],
    )
    public_value_source = models.TextField(
        _("public value"),
        help_text=_(
            "Named before entries open, and given to every release: which publicly announced "
            "number the draw uses, when it is announced, and the fallback if it is not."
        ),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Untick to stop making new releases.")
    )

    class Meta:
        verbose_name = _("release schedule")
        verbose_name_plural = _("release schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="schedule_weekday_valid"
            ),
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=7), name="schedule_week"),
        ]

    def __str__(self):
        return str(self.office)

    def clean(self):
        if None in (self.days_ahead, self.entry_hours, self.draw_hours, self.opens_at):
            return
        first_day_starts = timedelta(days=self.days_ahead) - _time_of_day(self.opens_at)
        if timedelta(hours=self.entry_hours + self.draw_hours) >= first_day_starts:
            raise ValidationError(
                {
                    "days_ahead": _(
                        "The draw must come before the first day released: release later "
                        "days, or shorten the entries or the wait for the draw."
                    )
                }
            )

    def release_opening(self, opens_on):
        """Return (opens at, closes at, draw at, first day, last day) of the release whose
        entries open on the local date `opens_on`."""
        opens = self.office.local_datetime(opens_on, self.opens_at)
        closes = opens + timedelta(hours=self.entry_hours)
        draw_at = closes + timedelta(hours=self.draw_hours)
        first = opens_on + timedelta(days=self.days_ahead)
        return opens, closes, draw_at, first, first + timedelta(days=self.days - 1)

    def openings(self, since: datetime, until: datetime) -> list[tuple]:
        """Return the releases (as release_opening) whose entries open from since to until."""
        local = self.office.local_now(since).date()
        first = local + timedelta(days=(self.weekday - local.weekday()) % 7)
        found = []
        day = first - timedelta(days=7)
        while True:
            opening = self.release_opening(day)
            if opening[0] > until:
                return found
            if opening[0] >= since:
                found.append(opening)
            day += timedelta(days=7)


def _time_of_day(value) -> timedelta:
    return timedelta(hours=value.hour, minutes=value.minute)


class Release(models.Model):
    """A ballot for an office's days: entries while it is open, then one draw anyone can check.

    The seed is drawn when the release is made and kept secret until the draw; its SHA-256 is
    public from the start. At the close the list of entries is fixed and its hash published;
    at the draw the seed and a public value named in advance are revealed.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open for entries")
        CLOSED = "closed", _("Closed, waiting for the draw")
        DRAWN = "drawn", _("Drawn")

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="releases", verbose_name=_("office")
    )
    first_day = models.DateField(_("first day released"))
    last_day = models.DateField(_("last day released"))
    opens_at = models.DateTimeField(_("entries open"))
    closes_at = models.DateTimeField(_("entries close"))
    draw_at = models.DateTimeField(_("draw"))
    public_value_source = models.TextField(
        _("public value"),
        help_text=_(
            "Named before entries open: which publicly announced number the draw uses, when "
            "it is announced, and the fallback if it is not."
        ),
    )
    public_value = models.CharField(_("public value as announced"), max_length=200, blank=True)
    seed = models.CharField(max_length=64, editable=False)  # secret until the draw
    seed_hash = models.CharField(_("SHA-256 of the seed"), max_length=64, editable=False)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.OPEN, editable=False
    )
    # Fixed at the close: [{"receipt", "size", "preferences"}], never changed after.
    entries_list = models.JSONField(null=True, editable=False)
    entries_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Fixed at the draw: the free places it handed out and what each receipt got.
    places = models.JSONField(null=True, editable=False)
    outcome = models.JSONField(null=True, editable=False)
    drawn_at = models.DateTimeField(_("drawn"), null=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("ballot release")
        verbose_name_plural = _("ballot releases")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")), name="release_days_in_order"
            ),
            models.CheckConstraint(
                condition=Q(opens_at__lt=F("closes_at")) & Q(closes_at__lte=F("draw_at")),
                name="release_times_in_order",
            ),
            models.UniqueConstraint(fields=["office", "first_day"], name="release_one_per_day"),
        ]

    def __str__(self):
        return f"{self.office} {self.first_day}–{self.last_day}"

    def is_open(self, now) -> bool:
        """Return whether entries are taken, changed and withdrawn now."""
        return self.state == self.State.OPEN and self.opens_at <= now < self.closes_at


class Entry(models.Model):
    """One applicant's, or one group's, entry in a release: up to three ranked preferences."""

    class Status(models.TextChoices):
        ENTERED = "entered", _("Entered")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        WON = "won", _("Won a place")
        WAITING = "waiting", _("On the waiting list")
        OFFERED = "offered", _("Offered a freed place")
        PASSED = "passed", _("Let an offered place go")

    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, related_name="entries", verbose_name=_("release")
    )
    code = models.CharField(_("entry code"), max_length=12)
    # SHA-256 over the secret salt and the entry's details (bookings.draw.receipt_of).
    receipt = models.CharField(_("receipt"), max_length=64)
    salt = models.CharField(max_length=32, editable=False)
    # [[day, window id or null], ...]: null is "any session of that day".
    preferences = models.JSONField(_("preferences"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ENTERED
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=16, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="id"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    # What the draw gave: the first applicant's booking (a group's members share its group)
    # and which preference it met, or the place on the waiting list. None of them indexed:
    # nothing looks an entry up by them, and the draw sets them on every entry of a release,
    # which PostgreSQL then does in place (see Meta).
    booking = models.ForeignKey(
        Booking,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
        db_index=False,
    )
    won_preference = models.PositiveSmallIntegerField(_("preference met"), null=True, blank=True)
    waiting_position = models.PositiveIntegerField(
        _("waiting list position"), null=True, blank=True
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("ballot entry")
        verbose_name_plural = _("ballot entries")
        # Unique by constraint, not unique=True, which on PostgreSQL adds to each a second
        # index for LIKE that no query uses. The draw rewrites every entry's row once; with
        # no indexed column changed and room left on its page (migration 0023's fill
        # factor) PostgreSQL updates it in place, its indexes untouched.
        constraints = [
            models.UniqueConstraint(fields=["code"], name="entry_code_unique"),
            models.UniqueConstraint(fields=["receipt"], name="entry_receipt_unique"),
        ]

    def __str__(self):
        return self.code


class EntryApplicant(models.Model):
    """An applicant of an entry: their own NIK, name and passport, as a booking would hold."""

    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="applicants", verbose_name=_("entry")
    )
    # The entry's release, kept here so the database holds one entry per NIK per release.
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="+")
    entered = models.BooleanField(default=True)  # false once the entry is withdrawn
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("full name as on the KTP"), max_length=120)
    birth_date = models.DateField(_("birth date"))
    purpose = models.CharField(_("purpose"), max_length=10, choices=Booking.Purpose.choices)
    passport_type = models.CharField(
        _("passport type"), max_length=10, choices=Booking.PassportType.choices
    )
    application_type = models.CharField(
        _("application"), max_length=10, choices=Booking.ApplicationType.choices
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("applicant of an entry")
        verbose_name_plural = _("applicants of an entry")
        constraints = [
            models.UniqueConstraint(
                fields=["release", "nik"],
                condition=Q(entered=True),
                name="entry_one_per_nik_per_release",
            ),
        ]

    def __str__(self):
        return mask_nik(self.nik)


class EntryChoice(models.Model):
    """One ranked preference of an entry, as rows: which waiting entries want a freed place is
    one indexed query, whatever the length of the waiting list."""

    # Neither has an index of its own: entrychoice_one_per_rank (entry, rank) and
    # entrychoice_release_day (release, day) begin with them, and an entry writes 1 to 5 rows.
    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, related_name="choices", db_index=False
    )
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+", db_index=False)
    rank = models.PositiveSmallIntegerField(_("rank"))
    day = models.DateField(_("day"))
    # None: any session of the day.
    window = models.ForeignKey(
        ServiceWindow, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    size = models.PositiveSmallIntegerField(_("applicants"))

    class Meta:
        ordering = ["entry", "rank"]
        verbose_name = _("choice of an entry")
        verbose_name_plural = _("choices of an entry")
        constraints = [
            models.UniqueConstraint(fields=["entry", "rank"], name="entrychoice_one_per_rank"),
        ]
        indexes = [models.Index(fields=["release", "day"], name="entrychoice_release_day")]

    def __str__(self):
        return f"{self.entry} {self.rank}: {self.day}"


class Offer(models.Model):
    """A freed place offered to the first waiting entry that wants it, held for a while.

    Its places are taken on the counters while it is open, so nobody else can book them;
    accepted, they become the entry's booking; declined or lapsed, they are offered to the
    next entry, or open to booking when nobody waiting wants them.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Lapsed")

    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, related_name="offers", verbose_name=_("release")
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="offers", verbose_name=_("entry")
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    window = models.ForeignKey(
        ServiceWindow, on_delete=models.PROTECT, related_name="+", verbose_name=_("session")
    )
    size = models.PositiveSmallIntegerField(_("places"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    made_at = models.DateTimeField(_("offered"))
    expires_at = models.DateTimeField(_("held until"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-made_at"]
        verbose_name = _("offer of a freed place")
        verbose_name_plural = _("offers of freed places")
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(state="open"),
                name="offer_one_open_per_entry",
            ),
            models.CheckConstraint(
                condition=Q(made_at__lt=F("expires_at")), name="offer_held_for_a_while"
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="offer_open_expiry")]

    def __str__(self):
        return f"{self.entry} {self.day}"

    def is_open(self, now) -> bool:
        return self.state == self.State.OPEN and now < self.expires_at


class ContactCheck(models.Model):
    """The one-time code sent to the contact of a new booking, group or ballot entry: until it
    is typed back, the subject holds its place and its NIKs for a few minutes only."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the code")
        CONFIRMED = "confirmed", _("Confirmed")
        LAPSED = "lapsed", _("Lapsed unconfirmed")

    booking = models.OneToOneField(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="contact_check"
    )
    group = models.OneToOneField(
        BookingGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="contact_check"
    )
    entry = models.OneToOneField(
        Entry, on_delete=models.CASCADE, null=True, blank=True, related_name="contact_check"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    channel = models.CharField(_("sent by"), max_length=5, choices=Notification.Channel.choices)
    # A keyed hash of the code (bookings.contact.code_hash); the code itself is never stored.
    code_hash = models.CharField(max_length=96, editable=False)
    tries = models.PositiveSmallIntegerField(_("wrong codes typed"), default=0)
    sends = models.PositiveSmallIntegerField(_("codes sent"), default=1)
    sent_at = models.DateTimeField(_("last code sent"))
    # The hold ends: unconfirmed by then, the subject lapses and its places are freed.
    expires_at = models.DateTimeField(_("hold ends"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact check")
        verbose_name_plural = _("contact checks")
        constraints = [
            models.CheckConstraint(condition=ONE_SUBJECT, name="contact_check_one_subject"),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="contact_check_due")]

    def __str__(self):
        return f"{self.get_state_display()} ({self.get_channel_display()})"


class Outage(models.Model):
    """A closure of many offices at once, decided by a supervisor: the central immigration
    system down, a day of mourning. Each office's closure moves its own applicants."""

    date = models.DateField(_("date"))
    # Empty: the whole day; else the sessions that begin in this time range.
    starts = models.TimeField(_("from"), null=True, blank=True)
    ends = models.TimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("decided"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")

    def __str__(self):
        return f"{self.date}: {self.reason}"


class Closure(models.Model):
    """An office closed on a day, or in some of its sessions, after its bookings were made:
    each booked applicant moved to the nearest free place or cancelled with priority."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="closures", verbose_name=_("office")
    )
    date = models.DateField(_("date"))
    # The sessions closed; none: the whole day.
    windows = models.ManyToManyField(
        ServiceWindow, blank=True, related_name="+", verbose_name=_("sessions")
    )
    reason = models.CharField(_("reason"), max_length=200)
    raised_quota = models.BooleanField(
        _("quota raised for the moved"),
        default=False,
        help_text=_("The days they moved to took them on top of their usual places."),
    )
    outage = models.ForeignKey(
        Outage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("outage"),
    )
    moved = models.PositiveIntegerField(_("applicants moved"), default=0)
    cancelled = models.PositiveIntegerField(_("applicants without a place"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    created_at = models.DateTimeField(_("closed"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        indexes = [models.Index(fields=["office", "date"], name="closure_office_day")]

    def __str__(self):
        return f"{self.office} {self.date}: {self.reason}"


class ClosureMoveQuerySet(models.QuerySet):
    def latest_for(self, booking):
        """Return the last move of a booking, with its closure and sessions (one query)."""
        rows = self.filter(booking=booking).select_related("closure", "from_window", "to_window")
        return rows.order_by("-pk").first()


class ClosureMove(models.Model):
    """What a closure did to one booking: moved to another place, or cancelled with priority
    to choose again; and what the applicant then did."""

    class Outcome(models.TextChoices):
        MOVED = "moved", _("Moved")
        CANCELLED = "cancelled", _("Cancelled with priority")

    class Answer(models.TextChoices):
        NONE = "", _("No answer yet")
        KEPT = "kept", _("Kept the new place")
        CHOSE = "chose", _("Chose another place")
        WAITING = "waiting", _("Joined the front of the waiting list")

    closure = models.ForeignKey(
        Closure, on_delete=models.CASCADE, related_name="moves", verbose_name=_("closure")
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="closure_moves", verbose_name=_("booking")
    )
    group = models.ForeignKey(
        BookingGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    from_date = models.DateField(_("from day"))
    from_window = models.ForeignKey(
        ServiceWindow, on_delete=models.PROTECT, related_name="+", verbose_name=_("from session")
    )
    to_date = models.DateField(_("to day"), null=True, blank=True)
    to_window = models.ForeignKey(
        ServiceWindow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to session"),
    )
    # Cancelled with priority: the applicant may choose any free place until this day.
    choose_until = models.DateField(_("may choose until"), null=True, blank=True)
    answer = models.CharField(
        _("answer"), max_length=10, choices=Answer.choices, blank=True, default=""
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = ClosureMoveQuerySet.as_manager()

    class Meta:
        ordering = ["closure", "pk"]
        verbose_name = _("booking moved by a closure")
        verbose_name_plural = _("bookings moved by closures")
        constraints = [
            models.UniqueConstraint(fields=["closure", "booking"], name="closure_move_once"),
            models.CheckConstraint(
                condition=Q(outcome="moved", to_date__isnull=False, to_window__isnull=False)
                | Q(outcome="cancelled", to_date__isnull=True, choose_until__isnull=False),
                name="closure_move_has_a_place_or_a_choice",
            ),
        ]

    def __str__(self):
        return f"{self.booking} {self.get_outcome_display()}"
