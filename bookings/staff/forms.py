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


PART_CHOICES = [("day", _("The whole day")), ("part", _("Only the sessions between two times"))]
RAISE_CHOICES = [
    ("yes", _("Yes: they come on top of the places those days have")),
    ("no", _("No: they take free places only; who finds none is cancelled with priority")),
]


class ClosingForm(forms.Form):
    """When and why an office closes: a day, or the sessions of part of it."""

    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    part = forms.ChoiceField(
        label=_("Close"), choices=PART_CHOICES, initial="day", widget=forms.RadioSelect
    )
    starts = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends = forms.TimeField(
        label=_("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("The sessions that begin or run between these times close."),
    )
    reason = forms.CharField(
        label=_("Reason applicants will read"),
        max_length=200,
        help_text=_("For example: Banjir di sekitar kantor; kantor tidak dapat dibuka."),
    )

    def clean(self):
        data = super().clean()
        if data.get("part") == "part":
            starts, ends = data.get("starts"), data.get("ends")
            if starts is None:
                self.add_error("starts", _("Give the time the closure begins."))
            if ends is None:
                self.add_error("ends", _("Give the time the closure ends."))
            if starts and ends and starts >= ends:
                self.add_error("ends", _("The end must be after the beginning."))
        else:
            data["starts"] = data["ends"] = None
        return data


class ClosureDecisionForm(forms.Form):
    """What the preview asks before closing: raise the quotas of the days they move to."""

    raise_quota = forms.ChoiceField(
        label=_("Raise the quota of the days they move to"),
        choices=RAISE_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )

    @property
    def raising(self) -> bool | None:
        """The choice made about raising quotas, or None: as the preview proposes."""
        return {"yes": True, "no": False}.get(self.cleaned_data.get("raise_quota") or "")


class CloseDayForm(ClosingForm):
    """An office closing a day, or part of it, that holds bookings."""

    office = forms.ModelChoiceField(queryset=None, label=_("Office"), empty_label=None)
    field_order = ["office", "day", "part", "starts", "ends", "reason"]

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices


class OutageForm(ClosingForm):
    """Many offices closing at once: the central system down, a day of mourning."""

    offices = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Offices"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each office's applicants move within that office."),
    )
    field_order = ["day", "part", "starts", "ends", "reason", "offices"]

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offices"].queryset = offices
