"""The applicant's forms: details with a honeypot, look-up, cancel, reschedule."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bookings.applicants import ApplicantDetailsForm, clean_nik
from bookings.codes import is_well_formed, normalize_code
from bookings.templatetags.antrean import session


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


class ApplicantForm(HoneypotMixin, ApplicantDetailsForm):
    """The applicant's details on the booking page, with the field that bots fill in."""

    field_order = [*ApplicantDetailsForm.field_order, "website"]


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
        if not is_well_formed(code):
            raise ValidationError(_("A booking code has 10 letters and digits."))
        return code

    def clean_nik(self):
        return clean_nik(self.cleaned_data["nik"])


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
