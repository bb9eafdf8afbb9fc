"""Indonesian mobile numbers: what people type is accepted and stored as +628…; the ranges
are those of the phonenumbers library."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings.phone import MESSAGE, normalize_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("081234567890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("(0812) 3456.7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62-812-3456-7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        (" 0812\t3456 7890\n", "+6281234567890"),
        ("08121234567", "+628121234567"),  # 11 digits, the shortest mobile numbers
        ("+62812345678901", "+62812345678901"),  # 15 characters, the longest
    ],
)
def test_accepts_what_people_type(typed, stored):
    assert normalize_phone(typed) == stored


def test_the_mobile_ranges_are_the_phonenumbers_library_s():
    assert normalize_phone("0811 1111 111") == "+628111111111"  # 9 digits after 08
    assert normalize_phone("+62 811 1111 111 11") == "+62811111111111"
    assert normalize_phone("0881 234 567") == "+62881234567"
    for too_short_or_long in ("+6281111111", "+6285212345", "+628" + "1" * 12):
        with pytest.raises(ValidationError):
            normalize_phone(too_short_or_long)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "   ",
        "0711 123456",  # a Palembang landline
        "021 5550 123",  # a Jakarta landline
        "+1 202 555 0100",
        "+65 8123 4567",
        "0812",
        "0812 3456 7890 ext 2",
        "٠٨١٢٣٤٥٦٧٨٩٠",  # Arabic-Indic digits
        "08١٢٣٤٥٦٧٨٩٠",  # mixed: \d would have let these through
        "０８１２３４５６７８９０",  # full-width digits
        "0812\x0034567890",
        "+62+81234567890",
        "++6281234567890",
        "0812/3456/7890",
        "' OR 1=1 --",
        "7" * 10_000,
    ],
)
def test_refuses_what_cannot_be_an_indonesian_mobile(typed):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(typed)
    assert caught.value.code == "phone"


def test_the_message_is_translatable_and_shows_an_example():
    with translation.override("en"):
        assert "0812 3456 7890" in str(MESSAGE)
    with pytest.raises(ValidationError) as caught:
        normalize_phone("x")
    assert caught.value.messages == [str(MESSAGE)]


def test_the_stored_number_fits_the_booking_field():
    from bookings.models import Booking

    longest = normalize_phone("+628" + "9" * 11)
    assert len(longest) <= Booking._meta.get_field("phone").max_length
