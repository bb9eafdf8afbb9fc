"""The applicant's details and the one set of checks they pass: online, in the app, at the counter.

The booking page, the API and the walk-in page all check a NIK, a name, a birth date and a
phone number with the functions here, against the office's own date.
"""

import copy
import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from functools import partial

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from .models import Booking
from .nik import parse_nik
from .phone import normalize_phone

MIN_BIRTH_DATE = date(1900, 1, 1)
# A KTP prints names in Latin letters with these marks; phones often type ’ for '.
NAME_MARKS = frozenset(" .,'-")
NAME_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc`", "'"))

# What each applicant of a group or a ballot entry holds of their own; the contact and the
# language are the group's or the entry's.
APPLICANT_FIELDS = (
    "nik",
    "full_name",
    "birth_date",
    "purpose",
    "passport_type",
    "application_type",
)
CONTACT_FIELDS = ("email", "phone", "language")


@dataclass(frozen=True)
class Applicant:
    """The applicant's details as the form or API validated them."""

    nik: str
    full_name: str
    birth_date: date
    purpose: str
    email: str = ""
    phone: str = ""
    passport_type: str = Booking.PassportType.ORDINARY
    application_type: str = Booking.ApplicationType.NEW
    language: str = "id"

    @classmethod
    def from_form(cls, data: dict, language: str) -> "Applicant":
        """Return the applicant from a form's cleaned data (fields it lacks keep their default)."""
        names = {f.name for f in fields(cls)} - {"language"}
        return cls(**{name: data[name] for name in names if name in data}, language=language)


def _is_name_character(ch):
    return ch in NAME_MARKS or (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"))


def clean_nik(value: str) -> str:
    """Return the NIK as stored; raise ValidationError (coded nik_…) if it cannot be one."""
    return parse_nik(value).nik


def clean_full_name(value: str) -> str:
    """Return a name as on the KTP, spaces folded; raise ValidationError for anything else."""
    name = " ".join(value.split())
    if any(ord(ch) < 32 for ch in name):
        raise ValidationError(
            _("%(field)s contains characters that are not allowed.") % {"field": _("The name")}
        )
    name = name.translate(NAME_APOSTROPHES)
    if not any(ch.isalpha() for ch in name):
        raise ValidationError(_("Enter your full name as on the KTP."))
    if not all(_is_name_character(ch) for ch in name):
        raise ValidationError(_("Write the name as on the KTP: letters, spaces and . , ' - only."))
    return name


def check_birth_date(born: date, *, today: date) -> date:
    """Return the birth date if a living applicant can have it on the office's `today`."""
    if born > today:
        raise ValidationError(_("The birth date cannot be in the future."))
    if born < MIN_BIRTH_DATE:
        raise ValidationError(_("Check the birth date."))
    return born


# What the applicant hears of a detail left empty, on the page and in the API alike.
MISSING = {
    "nik": _("Enter your NIK."),
    "full_name": _("Enter your full name as on the KTP."),
    "birth_date": _("Enter your birth date."),
    "phone": _("Enter your mobile phone number."),
    "email": _("Enter your e-mail address."),
    "purpose": _("Choose the purpose of the passport."),
}
EMAIL_INVALID = _("Enter an e-mail address such as name@example.com.")
_EMAIL = EmailValidator(message=EMAIL_INVALID)


def clean_email(value: str) -> str:
    """Return an e-mail address checked and in one spelling, however it is typed: contacts
    are counted by it (services)."""
    value = value.strip()
    _EMAIL(value)
    return value.lower()


def check_details(values: dict, *, today: date) -> tuple[dict, dict[str, list]]:
    """Return an applicant's details cleaned by the booking form's checks, with its messages,
    and each detail's errors: without a form, for the API, whose schema has checked each
    value's type, length and choice already (a form cost it ten times as much)."""
    checks = {
        "nik": clean_nik,
        "full_name": clean_full_name,
        "birth_date": partial(check_birth_date, today=today),
        "phone": normalize_phone,
        "email": clean_email,
    }
    cleaned, errors = {}, {}
    for name, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in MISSING:
                errors[name] = [ValidationError(MISSING[name], code="required")]
            continue
        try:
            cleaned[name] = checks[name](value) if name in checks else value
        except ValidationError as exc:
            errors[name] = exc.error_list
    return cleaned, errors


class ConstantChoiceField(forms.ChoiceField):
    """A choice of a model's own constants (Booking.Purpose): each form's copy shares them.

    Django copies every field for every form it makes, and a ChoiceField deep-copies its
    choices and normalises them again for its widget: for the applicant's three radio
    groups, 115 of the 180 us it took to make an applicant's form. Setting `choices` on a
    copy gives that copy new ones and leaves the others alone, as it always did.
    """

    def __deepcopy__(self, memo):
        result = copy.copy(self)
        memo[id(self)] = result
        result.widget = copy.copy(self.widget)  # its choices, normalised once, shared too
        result.widget.attrs = self.widget.attrs.copy()
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        return result


class ApplicantDetailsForm(forms.Form):
    """An online applicant's details, as the booking page and the API take them.

    `today` is the office's date: a birth date is checked against the calendar the
    applicant lives in, not the server's.
    """

    nik = forms.CharField(
        label=_("NIK (Nomor Induk Kependudukan)"),
        max_length=32,
        help_text=_("16 digits, as on your KTP-el."),
        error_messages={"required": MISSING["nik"]},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    full_name = forms.CharField(
        label=_("Full name as on the KTP"),
        max_length=120,
        error_messages={"required": MISSING["full_name"]},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
        error_messages={
            "required": MISSING["birth_date"],
            "invalid": _("Enter the birth date as day, month and year, such as 17-08-1990."),
        },
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=24,
        help_text=_("We send the confirmation and the reminder by SMS."),
        error_messages={"required": MISSING["phone"]},
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        error_messages={"required": MISSING["email"], "invalid": EMAIL_INVALID},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    purpose = ConstantChoiceField(
        label=_("Purpose of the passport"),
        choices=Booking.Purpose.choices,
        widget=forms.RadioSelect,
        error_messages={"required": MISSING["purpose"]},
    )
    application_type = ConstantChoiceField(
        label=_("New passport or renewal"),
        choices=Booking.ApplicationType.choices,
        initial=Booking.ApplicationType.NEW,
        widget=forms.RadioSelect,
    )
    passport_type = ConstantChoiceField(
        label=_("Passport type"),
        choices=Booking.PassportType.choices,
        initial=Booking.PassportType.ORDINARY,
        widget=forms.RadioSelect,
    )

    field_order = [
        "nik",
        "full_name",
        "birth_date",
        "phone",
        "email",
        "purpose",
        "application_type",
        "passport_type",
    ]

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_nik(self):
        return clean_nik(self.cleaned_data["nik"])

    def clean_full_name(self):
        return clean_full_name(self.cleaned_data["full_name"])

    def clean_birth_date(self):
        return check_birth_date(self.cleaned_data["birth_date"], today=self.today)

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])

    def clean_email(self):
        return clean_email(self.cleaned_data["email"])

    @property
    def birth_date_mismatch(self):
        """Whether the birth date differs from the NIK's: warn, but let the booking go on."""
        if self.errors or not self.is_valid():
            return False
        nik = parse_nik(self.cleaned_data["nik"])
        return not nik.matches_birth_date(self.cleaned_data["birth_date"])

    def applicant(self, language) -> Applicant:
        return Applicant.from_form(self.cleaned_data, language)
