"""The demo's past: a year of bookings, walk-ins and visits at a demo office, written at once.

Every open day of the twelve months before the office's current month, up to yesterday, gets
what a busy Kanim sees: its windows nearly full of online bookings (a few cancelled and
rebooked, some no-shows), walk-ins with their reasons, priority applicants, and for each
applicant checked in a visit called and served at a counter. Days, windows and quotas are
the office's own plan (holidays closed); the counters end as the services would leave them.
Everything but the booking codes comes from a random.Random seeded with the office's code,
so a history is the same each time; the codes are drawn as any booking's (unguessable).
Appointments that ended more than RETENTION_DAYS ago are written already forgotten, as
bookings.services.forget_past_applicants leaves them.

The rows are written set-based (antrean.bulk): a model object per row would cost seconds.
Instants are handled as whole minutes since the epoch and turned into what the database
stores once per distinct minute.
"""

import itertools
import random
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import connection

from antrean import bulk
from bookings import codes
from bookings.models import Booking, Visit
from bookings.queue import order
from bookings.services import FORGOTTEN
from offices.models import Counter, Office, OfficeDay, WindowDay
from offices.schedule import day_plans

HISTORY_MONTHS = 12
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 24 * 60

# Umrah first, as at every Kanim of the article's time; then holidays, work, family, study.
PURPOSES = {
    Booking.Purpose.UMRAH: 42,
    Booking.Purpose.TOURISM: 20,
    Booking.Purpose.WORK: 12,
    Booking.Purpose.FAMILY: 9,
    Booking.Purpose.STUDY: 7,
    Booking.Purpose.HAJJ: 5,
    Booking.Purpose.OTHER: 5,
}
WALK_IN_REASONS = {
    Booking.WalkInReason.ELDERLY: 40,
    Booking.WalkInReason.DISABILITY: 10,
    Booking.WalkInReason.PREGNANT: 10,
    Booking.WalkInReason.CHILD: 10,
    Booking.WalkInReason.SICK: 5,
    Booking.WalkInReason.FAR_AWAY: 20,
    Booking.WalkInReason.OTHER: 5,
}
PURPOSE_LIST = list(PURPOSES)
PURPOSE_CUMULATIVE = list(itertools.accumulate(PURPOSES.values()))
# Drawn uniformly from these: 7 in 10 ordinary passports, 4 in 10 renewals, 1 in 12 English.
PASSPORT_TYPES = (Booking.PassportType.ORDINARY,) * 7 + (Booking.PassportType.ELECTRONIC,) * 3
APPLICATION_TYPES = (Booking.ApplicationType.NEW,) * 6 + (Booking.ApplicationType.RENEWAL,) * 4
LANGUAGES = ("id",) * 11 + ("en",)
# Mostly adults; some pilgrims past sixty, some children on a parent's trip.
AGES = (*range(17, 60), *range(17, 60), *range(60, 80), *range(5, 17))
NO_SHOW_RATE = 0.065
MISSED_RATE = 0.03  # of those checked in: called twice, never answered
ELSEWHERE_RATE = 0.08  # applicants whose KTP is from another province
# Regency (kota) of each demo office's city, the NIK's digits 3-4; other applicants' regions.
CITY_REGENCY = {"16": "71", "73": "71", "91": "71"}
OTHER_REGIONS = ("3171", "3273", "3578", "1271", "7471", "6471", "5171")

MEN = ("Ahmad", "Muhammad", "Budi", "Agus", "Rizki", "Hendra", "Yusuf", "Andi", "Fajar", "Imam")
WOMEN = ("Siti", "Nur", "Dewi", "Sri", "Aisyah", "Fitri", "Rina", "Wulan", "Ratna", "Lestari")
FAMILY_NAMES = (
    "Demo",
    "Contoh",
    "Percobaan",
    "Fiktif",
    "Uji Coba",
)

# Online applicants arrive from half an hour before their window to an hour into it.
EARLIEST_ARRIVAL, LATEST_ARRIVAL = -30, 60
WALK_INS_FROM, WALK_INS_UNTIL = time(7, 30), time(14, 30)
# Minutes from check-in to the first call (low, high, most often) per line; service length.
WAITS = {order.PRIORITY: (5, 30, 8), order.ONLINE: (5, 75, 20), order.WALK_IN: (10, 90, 35)}
SERVICE = (5, 20, 9)


def history_span(office: Office, now) -> tuple[date, date]:
    """Return the first day of the history (the first of the month twelve months back) and the
    office's today, the first day after it."""
    today = office.today(now)
    months = today.year * 12 + today.month - 1 - HISTORY_MONTHS
    return date(months // 12, months % 12 + 1, 1), today


def has_history(office: Office, now) -> bool:
    """Return whether the office has bookings or counted days in the span already (seeded or
    lived): its history is then left as it is."""
    first, today = history_span(office, now)
    days = {"date__gte": first, "date__lt": today}
    return (
        Booking.objects.filter(office=office, **days).exists()
        or OfficeDay.objects.filter(office=office, **days).exists()
    )


@dataclass
class Written:
    bookings: int = 0
    visits: int = 0
    counted_days: int = 0

    @property
    def rows(self) -> int:
        return self.bookings + self.visits + self.counted_days


def seed_history(office: Office, *, now) -> Written:
    """Write the office's year of history unless it has one; return what was written."""
    if has_history(office, now):
        return Written()
    first, today = history_span(office, now)
    plans = [p for p in day_plans(office, first, today - timedelta(days=1)) if p.open]
    history = _History(office, random.Random(office.code), _minute(now))
    for plan in plans:
        history.add_day(plan)
    return history.write()


def _minute(instant: datetime) -> int:
    return int((instant - EPOCH).total_seconds()) // 60


@dataclass
class _Row:
    """One booking and, if checked in, its visit, in minutes since the epoch."""

    date: date
    window: object
    channel: str
    status: str
    starts: int
    ends: int
    created: int
    reason: str = ""
    checked_in: int | None = None
    cancelled: int | None = None
    updated: int = 0
    queue_number: str = ""
    visit: tuple = ()
    applicant: dict = field(default_factory=dict)


class _History:
    """An office's history, built day by day in memory, then written in a few statements."""

    def __init__(self, office, rng, now):
        self.office = office
        self.rng = rng
        self.now = now
        self.rows: list[_Row] = []
        self.days: list[OfficeDay] = []
        self.window_days: list[WindowDay] = []
        self.counters = list(Counter.objects.filter(office=office, interview=True))
        self.retention = settings.RETENTION_DAYS * DAY
        self.province = office.province_code or "31"
        self.serial = 0

    def add_day(self, plan):
        rng, office = self.rng, self.office
        midnight = _minute(office.local_datetime(plan.date, time(0)))
        day_rows = []
        online_left = plan.online_quota
        for window in plan.windows:
            start = midnight + window.start.hour * 60 + window.start.minute
            end = midnight + window.end.hour * 60 + window.end.minute
            held = min(rng.randint(window.capacity * 4 // 5, window.capacity), online_left)
            online_left -= held
            cancelled = rng.randint(0, 3)
            for number in range(held + cancelled):
                row = self._online(plan.date, window, start, end, cancelled=number >= held)
                day_rows.append(row)
        last_end = midnight + max(w.end.hour * 60 + w.end.minute for w in plan.windows)
        reserve = plan.quota - plan.online_quota
        priority = min(reserve, rng.randint(3, 10))
        ordinary = min(online_left, rng.randint(1, 5))
        for reason in self._reasons(priority, ordinary):
            day_rows.append(self._walk_in(plan.date, reason, midnight, last_end))
        last_numbers = self._number_and_visit(day_rows)
        self._count(plan, day_rows, last_numbers)
        self.rows.extend(day_rows)

    def _reasons(self, priority, ordinary):
        urgent = [r for r in WALK_IN_REASONS if r in Booking.PRIORITY_REASONS]
        others = [r for r in WALK_IN_REASONS if r not in Booking.PRIORITY_REASONS]
        weights = [WALK_IN_REASONS[r] for r in urgent], [WALK_IN_REASONS[r] for r in others]
        return self.rng.choices(urgent, weights[0], k=priority) + self.rng.choices(
            others, weights[1], k=ordinary
        )

    def _online(self, day, window, start, end, *, cancelled):
        rng = self.rng
        created = start - rng.randint(1, self.office.booking_horizon_days) * DAY
        created -= rng.randint(0, 12 * 60)
        row = _Row(day, window, Booking.Channel.ONLINE, "", start, end, created)
        if cancelled:
            row.status = Booking.Status.CANCELLED
            row.cancelled = row.updated = created + rng.randint(1, start - created - 1)
        elif rng.random() < NO_SHOW_RATE:
            row.status = Booking.Status.NO_SHOW
            row.updated = end - end % DAY + DAY + 5  # the night's no-show sweep (about)
        else:
            row.status = Booking.Status.CHECKED_IN
            row.checked_in = row.updated = start + rng.randint(EARLIEST_ARRIVAL, LATEST_ARRIVAL)
        row.applicant = self._applicant(day, end)
        return row

    def _walk_in(self, day, reason, midnight, last_end):
        rng = self.rng
        arrived = midnight + rng.randint(_of_day(WALK_INS_FROM), _of_day(WALK_INS_UNTIL))
        row = _Row(
            day,
            None,
            Booking.Channel.WALK_IN,
            Booking.Status.CHECKED_IN,
            arrived,
            max(last_end, arrived + 1),
            arrived,
            reason=reason,
            checked_in=arrived,
            updated=arrived,
        )
        row.applicant = self._applicant(day, row.ends, reason=reason)
        return row

    def _applicant(self, day, ends, reason=""):
        """Return the applicant's fields; for one whose appointment ended RETENTION_DAYS ago,
        only what forget_past_applicants keeps, and when it ran."""
        rng = self.rng
        kept = {
            "purpose": rng.choices(PURPOSE_LIST, cum_weights=PURPOSE_CUMULATIVE)[0],
            "passport_type": rng.choice(PASSPORT_TYPES),
            "application_type": rng.choice(APPLICATION_TYPES),
            "language": rng.choice(LANGUAGES),
        }
        if ends + self.retention < self.now:  # the daily task forgot it by now
            forgotten_at = min(ends + self.retention + DAY, self.now)
            return {**kept, **FORGOTTEN, "forgotten_at": forgotten_at}
        if reason == Booking.WalkInReason.ELDERLY:
            age = rng.randint(60, 85)
        elif reason == Booking.WalkInReason.CHILD:
            age = rng.randint(0, 4)
        else:
            age = rng.choice(AGES)
        female = reason == Booking.WalkInReason.PREGNANT or rng.random() < 0.5
        born = day.replace(year=day.year - age, day=1) - timedelta(days=rng.randint(0, 360))
        if rng.random() < ELSEWHERE_RATE:
            region = rng.choice(OTHER_REGIONS)
        else:
            region = self.province + CITY_REGENCY.get(self.province, "71")
        self.serial = self.serial % 9999 + 1
        nik_day = born.day + (40 if female else 0)
        nik = f"{region}{rng.randint(1, 15):02d}{nik_day:02d}{born:%m%y}{self.serial:04d}"
        given = rng.choice(WOMEN if female else MEN)
        family = rng.choice(FAMILY_NAMES)
        return {
            "nik": nik,
            "full_name": f"{given} {family}",
            "birth_date": born,
            "email": f"{given.lower()}.{self.serial:04d}@example.com",
            "phone": f"+62812000{self.serial % 100000:05d}",
            "forgotten_at": None,
            **kept,
        }

    def _number_and_visit(self, day_rows):
        """Give the checked-in their queue numbers in order of arrival, line by line, and a
        visit called and served at one of the counters."""
        rng = self.rng
        last = Tally()
        arrived = sorted(
            (r for r in day_rows if r.checked_in is not None), key=lambda r: r.checked_in
        )
        for row in arrived:
            # The one rule of which line one joins; it compares instants, minutes here.
            line = order.line_at_check_in(
                walk_in=row.channel == Booking.Channel.WALK_IN,
                priority=row.reason in Booking.PRIORITY_REASONS,
                window_ends_at=row.ends,
                now=row.checked_in,
            )
            last[line] += 1
            row.queue_number = f"{line}-{last[line]:03d}"  # as offices.places numbers them
            queued = max(row.starts, row.checked_in) if line == order.ONLINE else row.checked_in
            called = max(row.checked_in + round(rng.triangular(*WAITS[line])), queued + 1)
            counter = rng.choice(self.counters).pk if self.counters else None
            if rng.random() < MISSED_RATE:
                again = called + rng.randint(5, 20)
                state, calls, skips, serving, finished = Visit.State.MISSED, 2, 2, None, again
            else:
                again, state, calls, skips = called, Visit.State.DONE, 1, 0
                serving = called + rng.randint(0, 2)
                finished = serving + round(rng.triangular(*SERVICE))
            row.visit = (line, state, queued, counter, calls, skips, called, again)
            row.visit += (serving, finished)
        return last

    def _count(self, plan, day_rows, last):
        """The day's and windows' counters as the services leave them once the day is over:
        the checked-in hold their places, the cancelled and no-shows gave theirs back."""
        held = [r for r in day_rows if r.status == Booking.Status.CHECKED_IN]
        reserve = sum(r.reason in Booking.PRIORITY_REASONS for r in held)
        self.days.append(
            OfficeDay(
                office=self.office,
                date=plan.date,
                quota=plan.quota,
                online_quota=plan.online_quota,
                booked=len(held),
                online_booked=len(held) - reserve,
                last_queue_a=last[order.ONLINE],
                last_queue_b=last[order.WALK_IN],
                last_queue_p=last[order.PRIORITY],
            )
        )
        in_window = Tally(r.window.pk for r in held if r.window is not None)
        self.window_days.extend(
            WindowDay(window=w, date=plan.date, capacity=w.capacity, booked=in_window[w.pk])
            for w in plan.windows
        )

    def write(self) -> Written:
        instants = _instants()
        booking_rows = self._booking_rows(instants)
        _insert(Booking(office=self.office), BOOKING, booking_rows)
        first, today = history_span(self.office, EPOCH + timedelta(minutes=self.now))
        found = dict(
            Booking.objects.filter(office=self.office, date__gte=first, date__lt=today)
            .order_by()
            .values_list("code", "pk")
        )
        visit_rows = [
            (found[booking[0]], booking[1], *self._visit_values(row.visit, instants))
            for booking, row in zip(booking_rows, self.rows, strict=True)
            if row.visit
        ]
        _insert(Visit(office=self.office), VISIT, visit_rows)
        OfficeDay.objects.bulk_create(self.days)
        WindowDay.objects.bulk_create(self.window_days)
        return Written(len(booking_rows), len(visit_rows), len(self.days) + len(self.window_days))

    @staticmethod
    def _visit_values(visit, instants):
        line, state, queued, counter, calls, skips, called, again, serving, finished = visit
        times = (instants(t) for t in (called, again, serving, finished))
        return (line, state, instants(queued), counter, calls, skips, *times)

    def _booking_rows(self, instants):
        drawn = codes.new_codes(len(self.rows))
        while len(set(drawn)) < len(drawn):  # 50 random bits: a repeat is all but impossible
            drawn = codes.new_codes(len(self.rows))
        dates = _Prepared(partial(bulk.prepared, Booking, "date"))
        reserve = {used: bulk.prepared(Booking, "uses_reserve", used) for used in (True, False)}
        rows = []
        for code, row in zip(drawn, self.rows, strict=True):
            applicant = row.applicant
            rows.append(
                (
                    code,
                    dates(row.date),
                    row.window.pk if row.window is not None else None,
                    instants(row.starts),
                    instants(row.ends),
                    row.channel,
                    row.status,
                    reserve[row.reason in Booking.PRIORITY_REASONS],
                    row.reason,
                    applicant["nik"],
                    applicant["full_name"],
                    dates(applicant["birth_date"]),
                    applicant["email"],
                    applicant["phone"],
                    applicant["purpose"],
                    applicant["passport_type"],
                    applicant["application_type"],
                    applicant["language"],
                    row.queue_number,
                    instants(row.created),
                    instants(row.updated),
                    instants(row.checked_in),
                    instants(row.cancelled),
                    instants(applicant["forgotten_at"]),
                )
            )
        return rows


BOOKING = (
    "code",
    "date",
    "window",
    "starts_at",
    "ends_at",
    "channel",
    "status",
    "uses_reserve",
    "walk_in_reason",
    "nik",
    "full_name",
    "birth_date",
    "email",
    "phone",
    "purpose",
    "passport_type",
    "application_type",
    "language",
    "queue_number",
    "created_at",
    "updated_at",
    "checked_in_at",
    "cancelled_at",
    "forgotten_at",
)
VISIT = (
    "booking",
    "date",
    "line",
    "state",
    "queued_at",
    "counter",
    "calls",
    "skips",
    "called_at",
    "last_called_at",
    "serving_at",
    "finished_at",
)


def _of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class _Prepared:
    """A value as the database stores it, each distinct value prepared once."""

    def __init__(self, prepare):
        self.prepare = prepare
        self.prepared = {None: None}

    def __call__(self, value):
        found = self.prepared.get(value, self)
        if found is self:
            found = self.prepared[value] = self.prepare(value)
        return found


def _instants() -> _Prepared:
    """Return minutes since the epoch as the database stores an instant.

    Django prepares a datetime in microseconds, and a year of history has half a million
    distinct minutes: where the database takes the UTC instant as it is (PostgreSQL) or as its
    naive text (SQLite), as Django's own preparation of a probe shows, it is made so directly.
    """
    probe = EPOCH + timedelta(days=20000, minutes=7)
    django = bulk.prepared(Booking, "starts_at", probe)
    kinds = [lambda i: i, lambda i: str(i.replace(tzinfo=None))]
    generic = partial(bulk.prepared, Booking, "starts_at")
    prepare = next((kind for kind in kinds if kind(probe) == django), generic)
    return _Prepared(lambda minute: prepare(EPOCH + timedelta(minutes=minute)))


def _insert(prototype, names, rows) -> None:
    """Insert the rows, their `names` fields given, every other field as the prototype's.

    Where a statement may hold any number of parameters (PostgreSQL), thousands of rows a
    statement (antrean.bulk). Where Django holds it to 999 (SQLite), one statement run for
    every row (executemany): 40 rows a statement would each be logged in full when DEBUG is
    on, as `make run` has it, and SQLite runs in the process anyway.
    """
    model = type(prototype)
    if connection.features.max_query_params is None:
        given = [f"given_{n}" for n in range(len(names))]  # "window" is a reserved word
        bulk.insert_select(
            model,
            prototype=prototype,
            selected={
                name: bulk.cast(model, name, f"given.{column}")
                for name, column in zip(names, given, strict=True)
            },
            source="given",
            names=given,
            rows=rows,
        )
        return
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    others = [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in names]
    constants = tuple(f.get_db_prep_save(getattr(prototype, f.attname), connection) for f in others)
    columns = ", ".join(qn(f.column) for f in [*fields, *others])
    marks = ", ".join(["%s"] * (len(fields) + len(others)))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row, *constants) for row in rows])
