"""Factories and helpers for bookings: valid NIKs and applicants."""

import itertools
from datetime import date

from bookings.services import Applicant

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
