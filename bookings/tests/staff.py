"""Helpers for the admin tests: two offices, their staff, and bookings made through services."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from bookings import services
from bookings.tests.factories import make_applicant
from offices.access import OFFICE_STAFF_GROUP, SUPERVISOR_GROUP
from offices.models import Office, ServiceWindow
from offices.tests.factories import OfficeFactory

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
    from django.utils import timezone

    from offices.schedule import holiday_name

    day = office.local_now(now or timezone.now()).date() + timedelta(days=after)
    while holiday_name(day):
        day += timedelta(days=1)
    return day


# FIXED_NOW's date in Palembang (WIB) and Makassar (WITA).
TODAY = date(2017, 9, 5)
