"""Applicant forms: what each field accepts, how it is cleaned, and the honeypot."""

from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from django.utils import translation

from bookings.applicants import Applicant, ApplicantDetailsForm, check_details
from bookings.public.forms import (
    ApplicantForm,
    ApplicantsForm,
    CancelForm,
    LookupForm,
    RescheduleForm,
)
from bookings.tests import factories
from bookings.tests.factories import make_nik

TODAY = date(2017, 9, 5)


NIK = "1671011705900001"


def applicant_data(**overrides):
    """What the applicant types, always under one NIK here."""
    return factories.applicant_data(**{"nik": NIK, **overrides})


def applicant_form(**overrides):
    return ApplicantForm(applicant_data(**overrides), today=TODAY)


def errors_of(form, field):
    with translation.override("en"):
        return [str(message) for message in form.errors.get(field, [])]


def test_a_valid_form_is_cleaned_into_what_is_stored():
    form = applicant_form(
        nik="1671 0117-0590.0001", full_name="  Siti   Aminah ", phone="+62 812-3456-7890"
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["nik"] == "1671011705900001"
    assert form.cleaned_data["full_name"] == "Siti Aminah"
    assert form.cleaned_data["phone"] == "+6281234567890"
    assert form.cleaned_data["birth_date"] == date(1990, 5, 17)
    assert form.cleaned_data["website"] == ""


def test_applicant_carries_the_cleaned_answers_and_the_language():
    form = applicant_form(passport_type="electronic", application_type="renewal")
    assert form.is_valid()
    assert form.applicant("en") == Applicant(
        nik="1671011705900001",
        full_name="Siti Aminah",
        birth_date=date(1990, 5, 17),
        purpose="umrah",
        email="siti@example.com",
        phone="+6281234567890",
        passport_type="electronic",
        application_type="renewal",
        language="en",
    )


def test_fields_come_in_the_order_of_the_page():
    assert list(ApplicantForm(today=TODAY).fields) == [
        "nik",
        "full_name",
        "birth_date",
        "phone",
        "email",
        "purpose",
        "application_type",
        "passport_type",
        "website",
    ]


@pytest.mark.parametrize("typed", ["1990-05-17", "17-05-1990", "17/05/1990"])
def test_birth_date_accepts_the_usual_spellings(typed):
    form = applicant_form(birth_date=typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["birth_date"] == date(1990, 5, 17)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2017-09-06", "The birth date cannot be in the future."),
        ("9999-12-31", "The birth date cannot be in the future."),
        ("1899-12-31", "Check the birth date."),
        ("05/17/1990", "Enter the birth date as day, month and year, such as 17-08-1990."),
        ("1990-02-30", "Enter the birth date as day, month and year, such as 17-08-1990."),
        ("", "Enter your birth date."),
    ],
)
def test_birth_date_refuses_what_cannot_be_one(typed, message):
    assert errors_of(applicant_form(birth_date=typed), "birth_date") == [message]


def test_birth_date_today_and_in_1900_are_accepted():
    nik = make_nik(date(2017, 9, 5))
    assert applicant_form(birth_date="2017-09-05", nik=nik).is_valid()
    assert applicant_form(birth_date="1900-01-01").is_valid()


def test_a_birth_date_unlike_the_nik_is_a_warning_not_an_error():
    form = applicant_form(birth_date="1990-05-18")
    assert form.is_valid()
    assert form.birth_date_mismatch is True
    assert applicant_form().birth_date_mismatch is False


def test_a_woman_s_nik_adds_40_to_the_day():
    form = applicant_form(nik=make_nik(date(1990, 5, 17), female=True))
    assert form.is_valid()
    assert form.birth_date_mismatch is False


def test_an_invalid_form_has_no_mismatch_to_report():
    assert applicant_form(nik="x").birth_date_mismatch is False


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your NIK."),
        ("167101170590001", "A NIK has exactly 16 digits."),
        ("16710117059000x1", "A NIK contains digits only."),
        ("9971011705900001", "The first two digits of this NIK are not a province code."),
        ("1671013205900001", "Digits 7 to 12 of this NIK are not a valid birth date."),
        ("1671011705900000", "The last four digits of a NIK cannot be 0000."),
        ("١٦٧١٠١١٧٠٥٩٠٠٠٠١", "A NIK contains digits only."),
    ],
)
def test_nik_messages(typed, message):
    assert errors_of(applicant_form(nik=typed), "nik") == [message]


@pytest.mark.parametrize(
    "name",
    [
        "Siti Aminah",
        "Dr. Ir. H. Muhammad Yusuf, S.H.",
        "Nur'aini",
        "Ni Luh Putu Ayu-Dewi",
        "José Ramos-Horta",
        "Soekarno",
    ],
)
def test_names_as_printed_on_a_ktp_are_accepted(name):
    form = applicant_form(full_name=name)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["full_name"] == name


@pytest.mark.parametrize("apostrophe", ["\u2019", "\u2018", "\u02bc", "`"])
def test_a_phone_keyboard_s_apostrophe_is_stored_plain(apostrophe):
    form = applicant_form(full_name=f"Ma{apostrophe}ruf Amin")
    assert form.is_valid()
    assert form.cleaned_data["full_name"] == "Ma'ruf Amin"


@pytest.mark.parametrize(
    "name",
    [
        "Siti 😀",
        "Siti 2",
        "سيتي أمينة",
        "\u202ehanimA itiS",
        "Siti\u200bAminah",
        "<b>Siti</b>",
        "Robert'); DROP TABLE bookings_booking;--",
        "Siti\x7fAminah",
    ],
)
def test_names_with_other_characters_are_refused(name):
    assert errors_of(applicant_form(full_name=name), "full_name") == [
        "Write the name as on the KTP: letters, spaces and . , ' - only."
    ]


@pytest.mark.parametrize("name", ["", "   ", "...", "- -"])
def test_a_name_needs_letters(name):
    assert errors_of(applicant_form(full_name=name), "full_name") == [
        "Enter your full name as on the KTP."
    ]


def test_control_characters_in_a_name_are_named():
    assert errors_of(applicant_form(full_name="Siti\x07Aminah"), "full_name") == [
        "The name contains characters that are not allowed."
    ]


def test_a_name_longer_than_the_column_is_refused():
    assert errors_of(applicant_form(full_name="A" * 121), "full_name")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("purpose", "space-tourism"),
        ("purpose", "UMRAH"),
        ("application_type", "lost"),
        ("passport_type", "diplomatic"),
    ],
)
def test_unknown_choices_are_refused(field, value):
    assert errors_of(applicant_form(**{field: value}), field)


@pytest.mark.parametrize("value", ["umrah", "hajj", "tourism", "work", "study", "family", "other"])
def test_every_purpose_of_the_glossary_is_offered(value):
    assert applicant_form(purpose=value).is_valid()


def test_each_form_s_choices_are_its_own_to_change():
    # The forms' copies of a choice field share the model's choices until one is given new
    # ones (ConstantChoiceField): that one alone changes, its widget with it.
    changed, other = ApplicantForm(today=TODAY), ApplicantForm(today=TODAY)

    changed.fields["purpose"].choices = [("umrah", "Umrah")]
    changed.fields["purpose"].widget.attrs["class"] = "changed"

    assert list(other.fields["purpose"].choices) == list(
        ApplicantForm.base_fields["purpose"].choices
    )
    assert len(other.fields["purpose"].widget.choices) == 7
    assert "class" not in other.fields["purpose"].widget.attrs
    assert changed.fields["purpose"].widget.choices == [("umrah", "Umrah")]
    assert ApplicantForm(applicant_data(purpose="hajj"), today=TODAY).is_valid()


@pytest.mark.parametrize("value", ["x", "https://spam.example", "0"])
def test_a_filled_honeypot_refuses_the_form(value):
    assert errors_of(applicant_form(website=value), "website") == [
        "This form could not be sent. Please try again."
    ]


def test_a_honeypot_of_spaces_counts_as_empty():
    assert applicant_form(website="   ").is_valid()


def test_the_honeypot_is_skipped_by_the_keyboard_and_autofill():
    attrs = ApplicantForm(today=TODAY).fields["website"].widget.attrs
    assert attrs["tabindex"] == "-1"
    assert attrs["autocomplete"] == "off"


def test_widgets_help_phones():
    fields = ApplicantForm(today=TODAY).fields
    assert fields["nik"].widget.attrs["inputmode"] == "numeric"
    assert fields["phone"].widget.input_type == "tel"
    assert fields["email"].widget.input_type == "email"
    assert fields["birth_date"].widget.input_type == "date"
    assert fields["full_name"].widget.attrs["autocomplete"] == "name"


def test_messages_are_in_the_active_language():
    form = ApplicantForm({**applicant_data(), "application_type": ""}, today=TODAY)
    with translation.override("en"):
        english = [str(m) for m in form.errors["application_type"]]
    with translation.override("id"):
        indonesian = [str(m) for m in form.errors["application_type"]]
    assert english == ["This field is required."]
    assert indonesian != english


# ---- look-up, cancel, reschedule -------------------------------------------------------------


def test_lookup_normalises_the_code_and_the_nik():
    form = LookupForm({"code": " abcde-fghjk ", "nik": "1671 0117 0590 0001"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "code": "ABCDEFGHJK",
        "nik": "1671011705900001",
        "website": "",
    }


@pytest.mark.parametrize(
    "code",
    [
        "ABCDE",
        "ABCDEFGHJKL",
        "ABCDEFGHJKLMN",
        "0O1IL0O1IL",
        "١٢٣٤٥٦٧٨٩٠",
        "ابتثجحخدذر",
        "ÄBCDEFGHJK",
    ],
)
def test_lookup_refuses_what_cannot_be_a_code(code):
    form = LookupForm({"code": code, "nik": "1671011705900001"})
    assert errors_of(form, "code") == ["A booking code has 10 letters and digits, a group code 12."]


def test_lookup_takes_a_group_code_in_blocks():
    form = LookupForm({"code": "abcd-efgh-jklm", "nik": "1671 0117 0590 0001"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["code"] == "ABCDEFGHJKLM"


def test_lookup_has_the_honeypot():
    form = LookupForm({"code": "ABCDEFGHJK", "nik": "1671011705900001", "website": "x"})
    assert errors_of(form, "website")


@pytest.mark.parametrize(("value", "valid"), [("on", True), ("", False), ("false", False)])
def test_cancel_needs_the_box_ticked(value, valid):
    assert CancelForm({"confirm": value}).is_valid() is valid


def test_reschedule_offers_only_the_windows_given():
    office = SimpleNamespace(zone_abbreviation="WITA")
    windows = [
        SimpleNamespace(window=SimpleNamespace(pk=7, start=time(8), end=time(10), office=office)),
        SimpleNamespace(window=SimpleNamespace(pk=9, start=time(13), end=time(15), office=office)),
    ]
    with translation.override("id"):
        form = RescheduleForm({"date": "2017-09-06", "window": "9"}, windows=windows)
        assert form.fields["window"].choices == [(7, "08.00–10.00 WITA"), (9, "13.00–15.00 WITA")]
    assert form.is_valid()
    assert form.cleaned_data == {"date": date(2017, 9, 6), "window": 9}
    with translation.override("en"):
        english = RescheduleForm(windows=windows).fields["window"].choices
    assert english[0] == (7, "08:00–10:00 WITA")
    other = RescheduleForm({"date": "2017-09-06", "window": "8"}, windows=windows)
    assert errors_of(other, "window") == ["Choose one of the sessions with places left."]
    empty = RescheduleForm({"date": "2017-09-06", "window": ""}, windows=windows)
    assert errors_of(empty, "window") == ["Choose a session."]


def test_reschedule_without_windows_accepts_none():
    form = RescheduleForm({"date": "2017-09-06", "window": "1"}, windows=[])
    assert not form.is_valid()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"nik": ""},
        {"nik": "1234"},
        {"nik": " 1671-0117-0590-0001 "},
        {"full_name": "   "},
        {"full_name": "Siti 42"},
        {"birth_date": TODAY + timedelta(days=1)},
        {"birth_date": date(1899, 12, 31)},
        {"phone": "12345"},
        {"phone": " 0812-3456-7890 "},
        {"email": "siti@"},
        {"email": " Siti@Example.COM "},
        {"email": "", "phone": "", "full_name": ""},
    ],
)
def test_the_apis_checks_clean_and_refuse_as_the_form_does(changes):
    # The API checks details without a form (bookings.applicants.check_details): the same
    # cleaned values, the same messages.
    given = {**applicant_data(), **changes}
    form = ApplicantDetailsForm(
        {k: v.isoformat() if isinstance(v, date) else v for k, v in given.items()}, today=TODAY
    )
    details = {name: given[name] for name in form.fields}
    if isinstance(details["birth_date"], str):
        details["birth_date"] = date.fromisoformat(details["birth_date"])

    cleaned, errors = check_details(details, today=TODAY)

    with translation.override("en"):
        said = {
            name: [str(e.message % (e.params or {})) for e in found]
            for name, found in errors.items()
        }
        expected = {name: list(found) for name, found in form.errors.items()}
    assert said == expected
    if form.is_valid():
        assert cleaned == form.cleaned_data


def test_the_applicants_forms_are_made_only_when_asked_for():
    # A blank page is drawn from the kept fields (book.html): nothing to make, nothing wrong.
    blank = ApplicantsForm(today=TODAY)
    assert blank.is_blank and blank.errors == [] and not blank.is_group
    assert "forms" not in vars(blank)
    sent = ApplicantsForm({**applicant_data(), "nik": "123"}, today=TODAY)
    assert not sent.is_valid()
    assert sent.errors and len(sent.forms) == 1
