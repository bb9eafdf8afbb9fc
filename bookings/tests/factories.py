"""Factories and helpers shared by the bookings tests, the one place for them.

Valid NIKs and applicants; two offices with their staff; bookings made through services or
through the pages; a known data set for the monthly counts; reading a page's errors.
"""

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from bookings import ballots, services
from bookings.applicants import Applicant
from bookings.availability import office_availability
from bookings.codes import new_code
from bookings.models import Booking, Offer
from bookings.queue import calls
from offices import clock
from offices.access import OFFICE_STAFF_GROUP, SUPERVISOR_GROUP
from offices.models import Counter, Office, OfficeDay, ServiceWindow, WindowDay
from offices.schedule import holiday_name
from offices.tests.factories import OfficeFactory

_serials = itertools.count(1)


def make_nik(birth=date(1990, 5, 17), *, female=False, region="167101", serial=None):
    """Return a valid NIK for a birth date; each call gives a new serial unless one is given."""
    day = birth.day + (40 if female else 0)
    serial = next(_serials) if serial is None else serial
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial % 10000 or 1:04d}"


def make_applicant(**overrides) -> Applicant:
    birth = overrides.pop("birth_date", date(1990, 5, 17))
    data = {
        "nik": make_nik(birth),
        "full_name": "Siti Aminah",
        "birth_date": birth,
        "purpose": "umrah",
        "email": "siti@example.com",
        "phone": "+6281234567890",
    }
    data.update(overrides)
    return Applicant(**data)


# Offices, staff and bookings ---------------------------------------------------------------

PASSWORD = "a-long-test-password-17"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass
class World:
    palembang: Office
    makassar: Office
    clerk: object  # Office staff of Palembang
    makassar_clerk: object
    supervisor: object
    admin: object


def make_user(username, *, group=None, offices=(), superuser=False, password=None):
    """Create a staff user; without a password (hashing is slow) unless one is given."""
    user = get_user_model().objects.create_user(
        username, password=password, is_staff=True, is_superuser=superuser
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    for office in offices:
        office.staff.add(user)
    return user


def make_world() -> World:
    palembang = OfficeFactory(
        code="palembang", name="Kanim Palembang", city="Palembang", timezone="Asia/Jakarta"
    )
    makassar = OfficeFactory(
        code="makassar", name="Kanim Makassar", city="Makassar", timezone="Asia/Makassar"
    )
    return World(
        palembang=palembang,
        makassar=makassar,
        clerk=make_user("petugas.palembang", group=OFFICE_STAFF_GROUP, offices=[palembang]),
        makassar_clerk=make_user("petugas.makassar", group=OFFICE_STAFF_GROUP, offices=[makassar]),
        supervisor=make_user("supervisor", group=SUPERVISOR_GROUP),
        admin=make_user("admin", superuser=True),
    )


def window_at(office, day: date, hour=8) -> ServiceWindow:
    """Return the office's window that starts at `hour` on the weekday of `day`."""
    return office.windows.get(weekday=day.weekday(), start=time(hour))


def book_at(office, day: date, hour=8, *, now, **applicant) -> Booking:
    """Book an online place through the service in the window that starts at `hour`."""
    return services.create_booking(
        office=office,
        day=day,
        window=window_at(office, day, hour),
        applicant=make_applicant(**applicant),
        now=now,
    )


def assert_counters_match_bookings():
    """Every counter equals the active bookings it counts plus the places open offers of a
    waiting list hold, and stays within its limits."""
    active = Booking.objects.active()
    offers = Offer.objects.filter(state=Offer.State.OPEN)
    for row in OfficeDay.objects.all():
        on_day = active.filter(office_id=row.office_id, date=row.date)
        held = sum(o.size for o in offers.filter(office_id=row.office_id, day=row.date))
        assert row.booked == on_day.count() + held, row
        assert row.online_booked == on_day.filter(uses_reserve=False).count() + held, row
        assert row.booked <= row.quota and row.online_booked <= row.online_quota
    for row in WindowDay.objects.all():
        held = sum(o.size for o in offers.filter(window_id=row.window_id, day=row.date))
        booked = active.filter(window_id=row.window_id, date=row.date).count()
        assert row.booked == booked + held, row
        assert row.booked <= row.capacity


def window_on(office, day: date, index=0) -> ServiceWindow:
    return list(
        ServiceWindow.objects.filter(office=office, weekday=day.weekday()).order_by("start")
    )[index]


def book(office, day: date, *, index=0, now, **applicant):
    """Book an online place for `day` as if done the day before at the same hour."""
    return services.create_booking(
        office=office,
        day=day,
        window=window_on(office, day, index),
        applicant=make_applicant(**applicant),
        now=min(now, office.local_datetime(day, window_on(office, day, index).start))
        - timedelta(days=1),
    )


FAMILY = ("Ahmad Fauzi", "Siti Aminah", "Nur Aisyah", "Muhammad Rizki", "Dewi Lestari")


def make_family(size: int, **contact) -> list[Applicant]:
    """Return `size` applicants with NIKs of their own, the first one's contact for all."""
    births = [date(1970, 3, 2), date(1975, 8, 9), date(2005, 1, 20), date(2010, 6, 1)]
    births.append(date(2015, 12, 24))
    return [
        make_applicant(
            full_name=FAMILY[number % len(FAMILY)],
            birth_date=births[number % len(births)],
            **(contact if number == 0 else {"email": "", "phone": ""}),
        )
        for number in range(size)
    ]


def book_group(office, day: date, size=3, *, index=0, now, **contact) -> list[Booking]:
    """Book a family of `size` together, as book() does one applicant."""
    window = window_on(office, day, index)
    return services.create_group_booking(
        office=office,
        day=day,
        window=window,
        applicants=make_family(size, **contact),
        now=min(now, office.local_datetime(day, window.start)) - timedelta(days=1),
    )


# A day at the office: Wednesday 6 September 2017 in Palembang (WIB) -----------------------

WIB = ZoneInfo("Asia/Jakarta")
WEDNESDAY = date(2017, 9, 6)


def on_wednesday(hour, minute=0) -> datetime:
    """Return a time of Wednesday 6 September 2017 in WIB."""
    return datetime(2017, 9, 6, hour, minute, tzinfo=WIB)


def book_on_wednesday(office, hour=8, **applicant) -> Booking:
    """Book Wednesday's window at `hour` the day before, at 07.00."""
    return book_at(office, WEDNESDAY, hour, now=on_wednesday(7) - timedelta(days=1), **applicant)


def arrive_on_wednesday(office, now, hour=8, **applicant) -> Booking:
    """Book Wednesday's window at `hour` the day before, and check in at `now`."""
    booking = book_on_wednesday(office, hour, **applicant)
    return services.check_in(office=office, code=booking.code, now=now)


def make_clerk(username, office):
    """Create a staff user of the office, in no group."""
    return make_user(username, offices=[office])


def open_counter(office, name, username):
    """Create a counter with a new clerk of the office signed in to it."""
    counter = Counter.objects.create(office=office, name=name)
    return calls.sign_in(counter=counter, by=make_clerk(username, office))


def call(counter, now):
    """Call the next applicant to a counter as its clerk: their queue number, or None."""
    visit = calls.call_next(counter=counter, by=counter.clerk, now=now)
    return visit and visit.booking.queue_number


# A ballot for the week after next: entries open on Friday 1 September 2017 at 14.00 WIB.
BALLOT_OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
BALLOT_MONDAY = date(2017, 9, 11)


def make_release(office, first_day=BALLOT_MONDAY, last_day=None, *, opens_at=BALLOT_OPENS):
    """Make a ballot release of an office's days: entries open for three days, then the
    draw an hour later."""
    return ballots.make_release(
        office=office,
        first_day=first_day,
        last_day=last_day or first_day,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(days=3),
        draw_at=opens_at + timedelta(days=3, hours=1),
        public_value_source="The closing IDX composite index of Monday.",
    )


def login(client, user, language="en"):
    """Log a user in; pages answer in English so tests read the code's own words."""
    client.force_login(user, backend=MODEL_BACKEND)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def form_data(response) -> dict:
    """Return the POST data of an admin change form as the page shows it, inlines included."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            if value is True:
                data[field.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(v) for v in value]
            else:
                data[field.html_name] = str(value)
    return data


def open_day(office, *, after: int, now=None) -> date:
    """Return the first day at least `after` days ahead that is not a national holiday."""
    day = office.local_now(now or timezone.now()).date() + timedelta(days=after)
    while holiday_name(day):
        day += timedelta(days=1)
    return day


# FIXED_NOW's date in Palembang (WIB) and Makassar (WITA).
TODAY = date(2017, 9, 5)


# The monthly counts' known data set ----------------------------------------------------------

CHECKED_IN, BOOKED = Booking.Status.CHECKED_IN, Booking.Status.BOOKED
NO_SHOW, CANCELLED = Booking.Status.NO_SHOW, Booking.Status.CANCELLED
ONLINE, WALK_IN = Booking.Channel.ONLINE, Booking.Channel.WALK_IN

# (office, date, window start, channel, status, purpose, walk-in reason)
KNOWN_BOOKINGS = [
    ("palembang", date(2016, 12, 30), time(8), ONLINE, CHECKED_IN, "umrah", ""),  # 2016
    ("palembang", date(2017, 7, 3), time(8), ONLINE, BOOKED, "umrah", ""),
    ("palembang", date(2017, 7, 31), time(8), ONLINE, CHECKED_IN, "umrah", ""),
    ("palembang", date(2017, 7, 31), time(10), ONLINE, CHECKED_IN, "umrah", ""),
    ("palembang", date(2017, 7, 31), time(13), ONLINE, CHECKED_IN, "tourism", ""),
    ("palembang", date(2017, 7, 31), time(13), ONLINE, NO_SHOW, "work", ""),
    ("palembang", date(2017, 7, 31), time(10), ONLINE, CANCELLED, "umrah", ""),
    ("palembang", date(2017, 7, 31), time(9), WALK_IN, CHECKED_IN, "hajj", "elderly"),
    ("palembang", date(2017, 7, 31), time(11), WALK_IN, CHECKED_IN, "work", "far_away"),
    ("palembang", date(2017, 8, 1), time(8), ONLINE, CHECKED_IN, "study", ""),
    ("palembang", date(2017, 8, 1), time(10), ONLINE, CHECKED_IN, "family", ""),
    ("palembang", date(2017, 8, 31), time(13), ONLINE, CHECKED_IN, "other", ""),
    ("palembang", date(2017, 9, 1), time(8), ONLINE, CHECKED_IN, "umrah", ""),
    ("palembang", date(2017, 9, 1), time(9), WALK_IN, CHECKED_IN, "umrah", "pregnant"),
    ("palembang", date(2018, 1, 1), time(8), ONLINE, CHECKED_IN, "umrah", ""),  # 2018
    # 08:00 WIT is 23:00 UTC of the day before: these count in the office's own month.
    ("jayapura", date(2017, 7, 31), time(8), ONLINE, CHECKED_IN, "umrah", ""),
    ("jayapura", date(2017, 8, 1), time(8), ONLINE, CHECKED_IN, "umrah", ""),
    ("jayapura", date(2017, 8, 1), time(10), ONLINE, CHECKED_IN, "hajj", ""),
    ("jayapura", date(2017, 8, 1), time(8), ONLINE, NO_SHOW, "tourism", ""),
    ("jayapura", date(2017, 8, 31), time(13), ONLINE, CANCELLED, "umrah", ""),
    ("jayapura", date(2017, 9, 1), time(8), WALK_IN, CHECKED_IN, "family", "sick"),
    ("makassar", date(2017, 3, 15), time(9), WALK_IN, CHECKED_IN, "tourism", "child"),
    ("makassar", date(2017, 12, 31), time(13), ONLINE, CHECKED_IN, "other", ""),
]


# code, month, served, online, walk-in, priority, no-show, cancelled, booked,
# group members booked, group members checked in (no group in this set),
# then served by purpose: umrah, hajj, tourism, work, study, family, other.
EXPECTED_2017 = [
    ("jayapura", 7, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0),
    ("jayapura", 8, 2, 2, 0, 0, 1, 1, 4, 0, 0, 1, 1, 0, 0, 0, 0, 0),
    ("jayapura", 9, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0),
    ("makassar", 3, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0),
    ("makassar", 12, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1),
    ("palembang", 7, 5, 3, 2, 1, 1, 1, 8, 0, 0, 2, 1, 1, 1, 0, 0, 0),
    ("palembang", 8, 3, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 1, 1),
    ("palembang", 9, 2, 1, 1, 1, 0, 0, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0),
]


def make_offices():
    """Return the three demo offices, one per time zone, keyed by code."""
    return {
        "palembang": OfficeFactory(
            code="palembang",
            name="Kantor Imigrasi Kelas I TPI Palembang",
            city="Palembang",
            timezone="Asia/Jakarta",
        ),
        "makassar": OfficeFactory(
            code="makassar",
            name="Kantor Imigrasi Kelas I Makassar",
            city="Makassar",
            timezone="Asia/Makassar",
        ),
        "jayapura": OfficeFactory(
            code="jayapura",
            name="Kantor Imigrasi Kelas I Jayapura",
            city="Jayapura",
            timezone="Asia/Jayapura",
        ),
    }


def build_bookings(offices, specs):
    """Insert bookings as they would stand after booking, check-in, no-show or cancellation."""
    windows = {
        (w.office_id, w.weekday, w.start): w
        for w in ServiceWindow.objects.filter(office__in=offices.values())
    }
    queue = itertools.count(1)
    bookings = []
    for code, day, start, channel, status, purpose, reason in specs:
        office = offices[code]
        starts_at = office.local_datetime(day, start)
        window = None
        ends_at = office.local_datetime(day, time(15))
        if channel == ONLINE:
            window = windows[(office.pk, day.weekday(), start)]
            ends_at = office.local_datetime(day, window.end)
        checked_in = status == CHECKED_IN
        letter = "P" if reason in Booking.PRIORITY_REASONS else "B" if reason else "A"
        bookings.append(
            Booking(
                code=new_code(),
                office=office,
                date=day,
                window=window,
                starts_at=starts_at,
                ends_at=ends_at,
                channel=channel,
                status=status,
                walk_in_reason=reason,
                uses_reserve=reason in Booking.PRIORITY_REASONS,
                nik=make_nik(),
                full_name="Siti Aminah",
                birth_date=date(1990, 5, 17),
                purpose=purpose,
                queue_number=f"{letter}-{next(queue):03d}" if checked_in else "",
                checked_in_at=starts_at if checked_in else None,
                cancelled_at=starts_at if status == CANCELLED else None,
            )
        )
    return Booking.objects.bulk_create(bookings)


# Pages --------------------------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


def detail_url(booking):
    return reverse("booking-detail", args=[booking.code])


class _Page(HTMLParser):
    """Collect, for each element with an id, its text and the ids of the elements around it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open = []
        self.text = {}
        self.ancestors = {}

    def handle_starttag(self, tag, attrs):
        ident = dict(attrs).get("id")
        if ident:
            self.text[ident] = []
            self.ancestors[ident] = [i for _tag, i in self.open if i]
        if tag not in _VOID:
            self.open.append((tag, ident))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data):
        for _tag, ident in self.open:
            if ident:
                self.text[ident].append(data)


def field_errors_of(response):
    """Every field error on a page, for assertion messages."""
    return {k: v for k, v in parse(response).text.items() if k.endswith("_error")}


def bookable_days(office, now=None):
    """Return the office's days with a free window, from its first bookable day to its horizon."""
    now = now or clock.now()
    first, last = office.first_bookable_day(now), office.last_bookable_day(now)
    days = office_availability(office, first, (last - first).days + 1, now=now)
    return [day for day in days if day.bookable]


def first_slot(office, index=1):
    """Return (date, window) of a bookable day's first free window.

    The second bookable day by default: the first one becomes today at the office's
    midnight, which a test running across it would otherwise feel.
    """
    day = bookable_days(office)[index]
    return day.date, next(w.window for w in day.windows if w.bookable)


def form_url(office, day, window):
    return reverse("booking-form", args=[office.code, day.isoformat(), window.pk])


def check_url(office, day, window):
    return reverse("booking-check", args=[office.code, day.isoformat(), window.pk])


def applicant_data(**overrides):
    """Return what an applicant types into the form; a new valid NIK each call."""
    data = {
        "nik": make_nik(date(1990, 5, 17)),
        "full_name": "Siti Aminah",
        "birth_date": "1990-05-17",
        "phone": "0812 3456 7890",
        "email": "siti@example.com",
        "purpose": "umrah",
        "application_type": "new",
        "passport_type": "ordinary",
        "website": "",
    }
    data.update(overrides)
    return data


def book_through_pages(client, office, day, window, **overrides) -> Booking:
    """Fill the form, confirm on the check page and return the booking made."""
    data = applicant_data(**overrides)
    response = client.post(form_url(office, day, window), data)
    assert response.status_code == 302, field_errors_of(response)
    assert response["Location"] == check_url(office, day, window)
    response = client.post(check_url(office, day, window))
    assert response.status_code == 302
    booking = Booking.objects.get(nik=data["nik"])
    assert response["Location"] == detail_url(booking)
    return booking


def book_with_service(office, day, window, **overrides) -> Booking:
    return services.create_booking(
        office=office, day=day, window=window, applicant=make_applicant(**overrides)
    )


def parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    page.text = {k: " ".join("".join(v).split()) for k, v in page.text.items()}
    return page


def field_errors(response, name) -> list[str]:
    """Return the messages shown in a field's own error container, beside the field."""
    page = parse(response)
    container = f"id_{name}_error"
    if container not in page.text:
        return []
    assert f"div_id_{name}" in page.ancestors[container], f"{name}'s error is not beside it"
    return [
        text
        for ident, text in page.text.items()
        if re.fullmatch(rf"error_\d+_id_{name}", ident) and container in page.ancestors[ident]
    ]


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]*)"', response.content.decode()).group(1)


def closed_ballot_monday(clerk, *, now):
    """An office on a ballot whose drawn release of the week of Monday 11 September 2017 had
    two winners on Monday, then Monday closed with no day to move them to (set
    OUTAGE_MOVE_DAYS to 0 first): both are left to choose again. Returns the release and
    the winners' bookings."""
    from bookings import closures
    from offices.models import Office

    office = OfficeFactory(release_mode=Office.ReleaseMode.BALLOT, windows=[(time(8), time(10), 2)])
    monday = BALLOT_MONDAY
    release = make_release(office, monday, monday + timedelta(days=4))
    during = release.opens_at + timedelta(hours=1)
    for _ in range(4):
        ballots.enter(
            release=release,
            applicants=[make_applicant()],
            preferences=[(monday, window_at(office, monday))],
            now=during,
        )
    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)
    winners = list(Booking.objects.filter(date=monday, status="booked").order_by("pk"))
    closures.close(office=office, day=monday, reason="Banjir", by=clerk, now=now)
    return release, [Booking.objects.get(pk=w.pk) for w in winners]
