"""The NIK: what can be a NIK, what it says about its holder, and how it is masked."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from bookings.nik import mask_nik, mask_phone, normalize_nik, parse_nik, validate_nik
from bookings.tests.factories import make_nik


def test_a_valid_male_nik_gives_province_birth_date_and_sex():
    info = parse_nik("1671011705900001")

    assert info.nik == "1671011705900001"
    assert info.province == "16"
    assert (info.birth_day, info.birth_month, info.birth_year_2digit) == (17, 5, 90)
    assert info.female is False
    assert info.matches_birth_date(date(1990, 5, 17))


def test_a_female_nik_adds_forty_to_the_day():
    info = parse_nik("1671015705900002")

    assert info.female is True
    assert (info.birth_day, info.birth_month, info.birth_year_2digit) == (17, 5, 90)
    assert info.matches_birth_date(date(1990, 5, 17))


def test_the_factory_makes_niks_that_parse_for_either_sex():
    birth = date(2001, 12, 31)

    assert parse_nik(make_nik(birth)).female is False
    assert parse_nik(make_nik(birth, female=True)).female is True
    assert parse_nik(make_nik(birth, female=True)).matches_birth_date(birth)


@pytest.mark.parametrize(
    "typed",
    ["1671 0117 0590 0001", "1671.0117.0590.0001", "1671-0117-0590-0001", " 1671011705900001\n"],
)
def test_spaces_dots_and_dashes_people_type_are_removed(typed):
    assert normalize_nik(typed) == "1671011705900001"
    assert parse_nik(typed).nik == "1671011705900001"


def test_a_birth_date_that_differs_from_the_nik_does_not_match():
    info = parse_nik("1671011705900001")

    assert not info.matches_birth_date(date(1990, 5, 18))
    assert not info.matches_birth_date(date(1990, 6, 17))
    assert not info.matches_birth_date(date(1991, 5, 17))
    # The NIK holds two digits of the year: 1990 and 2090 read the same.
    assert info.matches_birth_date(date(2090, 5, 17))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("167101170590001", "nik_length"),  # 15 digits
        ("16710117059000011", "nik_length"),  # 17 digits
        ("", "nik_digits"),
        (None, "nik_digits"),
        ("16710117059000O1", "nik_digits"),  # the letter O
        ("1671011705900001x", "nik_digits"),
        ("١٦٧١٠١١٧٠٥٩٠٠٠٠١", "nik_digits"),  # Arabic-Indic digits are not ASCII digits
        ("+671011705900001", "nik_digits"),
        ("9971011705900001", "nik_province"),
        ("0071011705900001", "nik_province"),
        ("2071011705900001", "nik_province"),
        ("1671013102900001", "nik_date"),  # 31 February
        ("1671017102900001", "nik_date"),  # 31 February, female
        ("1671011513900001", "nik_date"),  # month 13
        ("1671011500900001", "nik_date"),  # month 0
        ("1671010005900001", "nik_date"),  # day 0
        ("1671014005900001", "nik_date"),  # female day 0
        ("1671013205900001", "nik_date"),  # day 32 is neither a man's nor a woman's day
        ("1671017205900001", "nik_date"),  # female day 32
        ("1671011705900000", "nik_serial"),
    ],
)
def test_what_cannot_be_a_nik_is_refused_with_its_reason(value, code):
    with pytest.raises(ValidationError) as caught:
        parse_nik(value)

    assert caught.value.code == code
    with pytest.raises(ValidationError):
        validate_nik(value)


@pytest.mark.parametrize("year", ["00", "04", "88", "96"])
def test_29_february_is_a_birth_date_in_years_divisible_by_four(year):
    assert parse_nik(f"1671012902{year}0001").birth_day == 29
    assert parse_nik(f"1671016902{year}0001").female is True


@pytest.mark.parametrize("year", ["01", "90", "97", "99"])
def test_29_february_is_refused_in_other_years(year):
    with pytest.raises(ValidationError) as caught:
        parse_nik(f"1671012902{year}0001")

    assert caught.value.code == "nik_date"


def test_serial_0001_is_the_first_serial():
    assert parse_nik("1671011705900001").nik.endswith("0001")


def test_every_province_of_the_2022_papua_split_is_known():
    for province in ("91", "92", "93", "94", "95", "96", "97"):
        assert parse_nik(f"{province}71011705900001").province == province


def test_mask_nik_hides_the_middle_eight_digits():
    assert mask_nik("1671011705900001") == "1671••••••••0001"
    assert mask_nik("") == ""
    assert "0117" not in mask_nik("1671011705900001")


def test_mask_nik_hides_short_values_entirely():
    assert mask_nik("12345678") == "••••••••"


def test_mask_phone_keeps_the_prefix_and_the_last_three_digits():
    assert mask_phone("+6281234567890") == "+6281••••••890"
    assert mask_phone("081234567890") == "081••••••890"
    assert mask_phone("") == ""
    assert "4567" not in mask_phone("+6281234567890")
