"""Applicant forms: details for a booking, look-up, reschedule."""

import unicodedata
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Booking
from .nik import parse_nik
from .phone import normalize_phone
from .services import CODE_ALPHABET, CODE_LENGTH, Applicant, normalize_code
from .templatetags.antrean import session

MIN_BIRTH_DATE = date(1900, 1, 1)
# A KTP prints names in Latin letters with these marks; phones often type ’ for '.
NAME_MARKS = frozenset(" .,'-")
NAME_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc`", "'"))


def _is_name_character(ch):
    return ch in NAME_MARKS or (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"))


def _clean_text(value, field_label):
    value = " ".join(value.split())
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError(
            _("%(field)s contains characters that are not allowed.") % {"field": field_label}
        )
    return value


class HoneypotMixin(forms.Form):
    """A field people never see; simple bots fill it in and are refused."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(_("This form could not be sent. Please try again."))
        return ""


class ApplicantForm(HoneypotMixin):
    nik = forms.CharField(
        label=_("NIK (Nomor Induk Kependudukan)"),
        max_length=32,
        help_text=_("16 digits, as on your KTP-el."),
        error_messages={"required": _("Enter your NIK.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    full_name = forms.CharField(
        label=_("Full name as on the KTP"),
        max_length=120,
        error_messages={"required": _("Enter your full name as on the KTP.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
        error_messages={
            "required": _("Enter your birth date."),
            "invalid": _("Enter the birth date as day, month and year, such as 17-08-1990."),
        },
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=24,
        help_text=_("We send the confirmation and the reminder by SMS."),
        error_messages={"required": _("Enter your mobile phone number.")},
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose of the passport"),
        choices=Booking.Purpose.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the purpose of the passport.")},
    )
    application_type = forms.ChoiceField(
        label=_("New passport or renewal"),
        choices=Booking.ApplicationType.choices,
        initial=Booking.ApplicationType.NEW,
        widget=forms.RadioSelect,
    )
    passport_type = forms.ChoiceField(
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
        "website",
    ]

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean_nik(self):
        return parse_nik(self.cleaned_data["nik"]).nik

    def clean_full_name(self):
        name = _clean_text(self.cleaned_data["full_name"], _("The name"))
        name = name.translate(NAME_APOSTROPHES)
        if not any(ch.isalpha() for ch in name):
            raise ValidationError(_("Enter your full name as on the KTP."))
        if not all(_is_name_character(ch) for ch in name):
            raise ValidationError(
                _("Write the name as on the KTP: letters, spaces and . , ' - only.")
            )
        return name

    def clean_birth_date(self):
        born = self.cleaned_data["birth_date"]
        if born > self.today:
            raise ValidationError(_("The birth date cannot be in the future."))
        if born < MIN_BIRTH_DATE:
            raise ValidationError(_("Check the birth date."))
        return born

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])

    @property
    def birth_date_mismatch(self):
        """Whether the birth date differs from the NIK's: warn, but let the booking go on."""
        if self.errors or not self.is_valid():
            return False
        info = parse_nik(self.cleaned_data["nik"])
        return not info.matches_birth_date(self.cleaned_data["birth_date"])

    def applicant(self, language) -> Applicant:
        return Applicant.from_form(self.cleaned_data, language)


class LookupForm(HoneypotMixin):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=32,
        error_messages={"required": _("Enter your booking code.")},
        help_text=_("The 10 letters and digits on your confirmation."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    nik = forms.CharField(
        label=_("NIK (Nomor Induk Kependudukan)"),
        max_length=32,
        error_messages={"required": _("Enter your NIK.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_code(self):
        code = normalize_code(self.cleaned_data["code"])
        if len(code) != CODE_LENGTH or not set(code) <= set(CODE_ALPHABET):
            raise ValidationError(_("A booking code has 10 letters and digits."))
        return code

    def clean_nik(self):
        return parse_nik(self.cleaned_data["nik"]).nik


class CancelForm(HoneypotMixin):
    confirm = forms.BooleanField(
        label=_("Yes, cancel this booking"),
        error_messages={"required": _("Tick the box to confirm the cancellation.")},
    )


class RescheduleForm(forms.Form):
    date = forms.DateField(widget=forms.HiddenInput, input_formats=["%Y-%m-%d"])
    window = forms.TypedChoiceField(
        label=_("Session"), coerce=int, widget=forms.RadioSelect, choices=()
    )

    def __init__(self, *args, windows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["window"].choices = [
            (w.window.pk, f"{session(w.window)} {w.window.office.zone_abbreviation}")
            for w in windows
        ]
        self.fields["window"].error_messages["invalid_choice"] = _(
            "Choose one of the sessions with places left."
        )
        self.fields["window"].error_messages["required"] = _("Choose a session.")
