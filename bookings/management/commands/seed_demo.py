"""Create the demo offices, their windows and counters, a year of their history, Jayapura's
ballot and the demo users; running it again changes nothing."""

import secrets
import time as timer
from datetime import time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from bookings import ballots
from bookings.management import demo_history
from bookings.models import ReleaseSchedule
from offices import clock
from offices.models import Counter, Office, ServiceWindow

OFFICES = [
    {
        "code": "palembang",
        "name": "Kantor Imigrasi Kelas I TPI Palembang",
        "city": "Palembang",
        "address": "Jl. Jenderal Sudirman Km. 3,5 No. 3, Palembang, Sumatera Selatan",
        "timezone": "Asia/Jakarta",
        "province_code": "16",
    },
    {
        "code": "makassar",
        "name": "Kantor Imigrasi Kelas I TPI Makassar",
        "city": "Makassar",
        "address": "Jl. Perintis Kemerdekaan Km. 13, Makassar, Sulawesi Selatan",
        "timezone": "Asia/Makassar",
        "province_code": "73",
    },
    {
        "code": "jayapura",
        "name": "Kantor Imigrasi Kelas I TPI Jayapura",
        "city": "Jayapura",
        "address": "Jl. Percetakan Negara No. 15, Jayapura, Papua",
        "timezone": "Asia/Jayapura",
        "province_code": "91",
    },
]
OFFICE_DEFAULTS = {"daily_quota": 150, "walk_in_reserve": 15, "open_weekdays": "01234"}
# Jayapura gives out its places by ballot; Palembang and Makassar first come, first served.
BALLOT_OFFICE = "jayapura"
# The demo release: entries open at once, close after a few minutes, the draw follows, so a
# newcomer sees the whole cycle while `make run` runs (or draws it by hand).
DEMO_ENTRY_MINUTES = 5
DEMO_DRAW_MINUTES = 1
DEMO_PUBLIC_VALUE = "demo"
DEMO_PUBLIC_VALUE_SOURCE = (
    "Demo release: the public value 'demo' is typed in when the release is made, so that the "
    "draw runs by itself. A real release names a number announced in public after its "
    "entries close (for example the IDX composite index at Monday's close), and a fallback."
)
SCHEDULE_PUBLIC_VALUE_SOURCE = (
    "The IDX composite index at the close of trading on the day of the draw, as published by "
    "the Indonesia Stock Exchange; if none is published that day, the next one that is."
)
WINDOWS = [(time(8), time(10)), (time(10), time(12)), (time(13), time(15))]
WEEKDAYS = range(5)
WINDOW_CAPACITY = 45
# Three counters call queue numbers (photo and interview); a cashier takes payments.
COUNTERS = [
    ("Loket 1", {"interview": True}),
    ("Loket 2", {"interview": True}),
    ("Loket 3", {"interview": True}),
    ("Kasir", {"interview": False, "payment": True}),
]

USERS = [
    # username, role, offices
    ("admin", "superuser", []),
    ("petugas.palembang", "Office staff", ["palembang"]),
    ("supervisor", "Supervisor", []),
]


class Command(BaseCommand):
    help = "Create the demo offices (Palembang, Makassar, Jayapura) and users, if missing."

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", help="password of the new superuser 'admin'")
        parser.add_argument(
            "--staff-password", help="password of the new Palembang clerk 'petugas.palembang'"
        )
        parser.add_argument(
            "--supervisor-password", help="password of the new supervisor 'supervisor'"
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="leave out the past twelve months of bookings and visits",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for data in OFFICES:
            office, new = Office.objects.get_or_create(
                code=data["code"],
                defaults={
                    **data,
                    "daily_quota": 150,
                    "walk_in_reserve": 15,
                    "open_weekdays": "01234",
                },
            )
            created += new
            for weekday in WEEKDAYS:
                for start, end in WINDOWS:
                    _, new = ServiceWindow.objects.get_or_create(
                        office=office,
                        weekday=weekday,
                        start=start,
                        defaults={"end": end, "capacity": WINDOW_CAPACITY},
                    )
                    created += new
            for name, services in COUNTERS:
                _, new = Counter.objects.get_or_create(office=office, name=name, defaults=services)
                created += new
        if not options.get("no_history"):
            created += self._history()
        created += self._ballot(Office.objects.get(code=BALLOT_OFFICE))
        passwords = {
            "admin": options.get("admin_password"),
            "petugas.palembang": options.get("staff_password"),
            "supervisor": options.get("supervisor_password"),
        }
        logins = []
        for username, role, office_codes in USERS:
            password = self._ensure_user(username, role, office_codes, passwords[username])
            if password:
                logins.append(f"{username} / {password}")
        if logins:
            self._remember(logins)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Office.objects.count()} offices, {created} rows created now."
            )
        )
        for line in logins:
            self.stdout.write(f"  new login: {line}")

    def _history(self):
        """Fill each demo office's past twelve months (demo_history); return rows made."""
        started = timer.perf_counter()
        now = clock.now()
        written = [
            demo_history.seed_history(office, now=now)
            for office in Office.objects.filter(code__in=[data["code"] for data in OFFICES])
        ]
        bookings = sum(w.bookings for w in written)
        if bookings:
            self.stdout.write(
                f"  history: {bookings} bookings and {sum(w.visits for w in written)} visits "
                f"over {demo_history.HISTORY_MONTHS} months "
                f"({timer.perf_counter() - started:.1f} s)"
            )
        return sum(w.rows for w in written)

    def _ballot(self, office):
        """Put Jayapura on a ballot with its weekly schedule, and one release open now for the
        week after next (unless a release covers that week already); return rows made."""
        _schedule, made = ReleaseSchedule.objects.get_or_create(
            office=office, defaults={"public_value_source": SCHEDULE_PUBLIC_VALUE_SOURCE}
        )
        if made:  # the first run; after it, the mode is the staff's to change
            office.release_mode = Office.ReleaseMode.BALLOT
            office.save(update_fields=["release_mode"])
        if not office.by_ballot:
            return made
        now = clock.now()
        today = office.today(now)
        first = today + timedelta(days=14 - today.weekday())  # Monday of the week after next
        last = first + timedelta(days=6)
        if office.releases.filter(first_day__lte=last, last_day__gte=first).exists():
            return made
        closes = now + timedelta(minutes=DEMO_ENTRY_MINUTES)
        release = ballots.make_release(
            office=office,
            first_day=first,
            last_day=last,
            opens_at=now,
            closes_at=closes,
            draw_at=closes + timedelta(minutes=DEMO_DRAW_MINUTES),
            public_value_source=DEMO_PUBLIC_VALUE_SOURCE,
        )
        ballots.set_public_value(release=release, value=DEMO_PUBLIC_VALUE)
        self.stdout.write(
            f"  Jayapura's demo ballot: /ballots/{release.pk}/ (entries close "
            f"{office.local_now(closes):%H:%M} {office.zone_abbreviation}, "
            f"the draw {DEMO_DRAW_MINUTES} minute later)"
        )
        return made + 1

    def _ensure_user(self, username, role, office_codes, password):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            return None
        password = password or secrets.token_urlsafe(9)
        user = User(username=username, is_staff=True, is_superuser=role == "superuser")
        user.set_password(password)
        user.save()
        if role != "superuser":
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        for office in Office.objects.filter(code__in=office_codes):
            office.staff.add(user)
        return password

    def _remember(self, logins):
        """Append new demo logins to var/demo-logins.txt, readable by its owner only."""
        path = settings.VAR_DIR / "demo-logins.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in logins))
        path.chmod(0o600)
