"""Forms of the office staff's pages: walk-in, check-in, cancellation reason, finding a booking."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bookings.applicants import Applicant, check_birth_date, clean_full_name, clean_nik
from bookings.codes import code_from_scan
from bookings.models import Booking
from bookings.nik import as_nik
from bookings.phone import normalize_phone
from bookings.services import can_exceed_quota
from offices.clock import office_today


class WalkInForm(forms.Form):
    """An applicant who came to the office without a booking, and why."""

    office = forms.ModelChoiceField(queryset=None, label=_("Office"), empty_label=None)
    reason = forms.ChoiceField(
        label=_("Reason for coming without a booking"),
        choices=Booking.WalkInReason.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Elderly, disabled, pregnant, small children and sick applicants get priority "
            "service and may use the walk-in reserve."
        ),
    )
    nik = forms.CharField(
        label=_("NIK"),
        max_length=32,
        help_text=_("16 digits, from the KTP."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    full_name = forms.CharField(label=_("Full name as on the KTP"), max_length=120)
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=24)
    email = forms.EmailField(label=_("E-mail"), required=False)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", "---------"), *Booking.Purpose.choices]
    )
    passport_type = forms.ChoiceField(
        label=_("Passport type"),
        choices=Booking.PassportType.choices,
        initial=Booking.PassportType.ORDINARY,
    )
    application_type = forms.ChoiceField(
        label=_("New passport or renewal"),
        choices=Booking.ApplicationType.choices,
        initial=Booking.ApplicationType.NEW,
        widget=forms.RadioSelect,
    )
    override_reason = forms.CharField(
        label=_("Reason for exceeding the daily quota"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only when the daily quota is full: as a supervisor you may register this "
            "applicant anyway. Write why; it is recorded."
        ),
    )

    def __init__(self, *args, offices, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices
        if not can_exceed_quota(user):
            del self.fields["override_reason"]

    def clean_nik(self):
        try:
            return clean_nik(self.cleaned_data["nik"])
        except ValidationError as exc:
            raise ValidationError(exc.messages, code="nik") from None

    def clean_full_name(self):
        return clean_full_name(self.cleaned_data["full_name"])

    def clean_birth_date(self):
        # Against the chosen office's date, as an online applicant's is; the office field
        # comes first, so it is cleaned already when it is valid.
        office = self.cleaned_data.get("office")
        born = self.cleaned_data["birth_date"]
        if office is None:
            return born  # the office's own error is shown; its date decides once chosen
        return check_birth_date(born, today=office_today(office))

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])

    def applicant(self, language="id") -> Applicant:
        return Applicant.from_form(self.cleaned_data, language)


class CheckInForm(forms.Form):
    """The booking or group code a clerk types or scans."""

    code = forms.CharField(
        label=_("Booking or group code"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "autocapitalize": "characters"}
        ),
        help_text=_(
            "Type the code or scan the applicant's QR code. A group's code checks in every "
            "applicant of the group who has not arrived yet."
        ),
    )

    def clean_code(self):
        return code_from_scan(self.cleaned_data["code"])

    def refuse(self, error: ValidationError) -> None:
        """Put a service's refusal on the code; the box then holds the code read, not the scan."""
        self.data = {"code": self.cleaned_data["code"]}
        self.add_error("code", error)


class CancelForm(forms.Form):
    """Why staff cancel the selected bookings; the applicants are told."""

    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=200,
        help_text=_("The applicants receive this reason in the cancellation message."),
    )


class FindForm(forms.Form):
    """A booking code or a full NIK, sent by POST so a NIK never sits in a URL."""

    term = forms.CharField(label=_("Booking code or NIK"), max_length=40)

    def clean_term(self):
        return self.cleaned_data["term"].strip()

    @property
    def nik(self) -> str:
        """Return the NIK searched for, or an empty string if the term is not a NIK."""
        return as_nik(self.cleaned_data.get("term", ""))


class ReleaseNikForm(forms.Form):
    """A NIK to free from a booking someone else holds, once the clerk has checked the KTP."""

    office = forms.ModelChoiceField(
        queryset=None,
        label=_("Your office"),
        empty_label=None,
        help_text=_("Where you checked the KTP; the booking may be at any office."),
    )
    nik = forms.CharField(
        label=_("NIK"),
        max_length=32,
        help_text=_("16 digits, from the KTP you have in hand."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=150,
        help_text=_(
            "What the KTP showed and what the applicant said, for the holder of the booking "
            "and the supervisors."
        ),
    )
    ktp_checked = forms.BooleanField(
        label=_("I have checked the applicant's KTP-el: the NIK is theirs."),
        error_messages={"required": _("Check the KTP-el before releasing a NIK.")},
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices

    def clean_nik(self):
        return clean_nik(self.cleaned_data["nik"])
