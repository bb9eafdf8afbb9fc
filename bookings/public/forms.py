"""The applicant's forms: details with a honeypot (one applicant or a group), look-up, cancel,
reschedule."""

import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.forms.utils import ErrorList
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bookings.applicants import Applicant, ApplicantDetailsForm, clean_nik
from bookings.codes import is_well_formed, normalize_code
from bookings.contact import clean_code as clean_contact_code
from bookings.templatetags.antrean import session
from bookings.templatetags.applicant_fields import InputRenderer


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

    default_renderer = InputRenderer  # its fields are drawn by applicant_field
    field_order = [*ApplicantDetailsForm.field_order, "website"]


CONTACT = ("phone", "email")


class MemberForm(ApplicantDetailsForm):
    """Another applicant of a group: their own details; the contact is the first applicant's."""

    phone = None
    email = None

    default_renderer = InputRenderer  # its fields are drawn by applicant_field
    field_order = [name for name in ApplicantDetailsForm.field_order if name not in CONTACT]


# The fields of one applicant that a POST carries, the first applicant's with the contact.
FIRST_FIELDS = tuple(ApplicantForm.base_fields)
MEMBER_FIELDS = tuple(MemberForm.base_fields)
COUNT_FIELD = "applicants"
ADD_FIELD = "add"
_REMOVE = re.compile(r"applicant([0-9]{1,2})-remove")


def member_prefix(number: int) -> str | None:
    """Return the prefix of the n-th applicant's fields: none for the first, "applicant2" on."""
    return None if number == 1 else f"applicant{number}"


def field_key(number: int, name: str) -> str:
    """Return the name the n-th applicant's field takes in a POST: nik, applicant2-nik."""
    prefix = member_prefix(number)
    return name if prefix is None else f"{prefix}-{name}"


def _fields_of(number: int) -> tuple[str, ...]:
    return FIRST_FIELDS if number == 1 else MEMBER_FIELDS


def applicant_field_keys(names) -> list[str]:
    """Return every name these fields take in a POST, for every applicant a group may hold."""
    return [
        field_key(number, name)
        for number in range(1, settings.BOOKING_GROUP_MAX + 1)
        for name in names
        if name in _fields_of(number)
    ]


def _count(value) -> tuple[int, bool]:
    """Return how many applicants a POST holds (at most the maximum) and whether it was refused.

    No count is one applicant: the form a booking for one always posted.
    """
    if value is None:
        return 1, False
    text = str(value)
    # [0-9]: isdigit() would take ² and ١ too.
    number = int(text) if re.fullmatch(r"[0-9]{1,4}", text) else 0
    allowed = 1 <= number <= settings.BOOKING_GROUP_MAX
    return min(max(number, 1), settings.BOOKING_GROUP_MAX), not allowed


@dataclass(frozen=True)
class _NumberedField:
    """A field of the n-th applicant, named with the number in the error summary."""

    field: BoundField
    number: int

    def __getattr__(self, name):
        return getattr(self.field, name)

    @property
    def label(self):
        return gettext("Applicant %(number)d — %(label)s") % {
            "number": self.number,
            "label": self.field.label,
        }


class ApplicantsForm:
    """Every applicant of one booking, one to BOOKING_GROUP_MAX; the first gives the contact.

    Not a formset: the first applicant's fields keep their names (nik, full_name, ...), so a
    booking for one posts what it always did, without a management form. The others' fields
    are numbered (applicant2-nik). The number of applicants comes from the POST and is never
    taken beyond BOOKING_GROUP_MAX. It answers what the error summary reads of a form.
    """

    def __init__(self, data=None, *, today: date, initial=None):
        self.is_bound = data is not None
        given = data if self.is_bound else (initial or {})
        # Nothing typed yet: every such form renders alike (the page keeps it, see book.html).
        self.is_blank = not given
        self.count, refused = _count(given.get(COUNT_FIELD))
        self.max = settings.BOOKING_GROUP_MAX
        self._errors = ErrorList()
        if self.is_bound and refused:
            self._errors.append(
                gettext("One booking holds at most %(max)d applicants.") % {"max": self.max}
            )
        self._data, self._initial, self._today = data, None if self.is_bound else given, today

    @cached_property
    def forms(self) -> list:
        """Each applicant's form, made when first asked: a blank page is drawn from the kept
        fields (book.html) and never needs them."""
        return [
            self._form(number, self._data, self._initial, self._today)
            for number in range(1, self.count + 1)
        ]

    @staticmethod
    def _form(number, data, given, today):
        form_class = ApplicantForm if number == 1 else MemberForm
        initial = None if given is None else _answers_of(given, number)
        return form_class(data, initial=initial, prefix=member_prefix(number), today=today)

    @property
    def is_group(self) -> bool:
        return self.count > 1

    @property
    def can_add(self) -> bool:
        return self.count < self.max

    @property
    def first(self) -> ApplicantForm:
        return self.forms[0]

    def numbered(self):
        """Return (number, form) for each applicant, from 1."""
        return list(enumerate(self.forms, start=1))

    def is_valid(self) -> bool:
        valid = [form.is_valid() for form in self.forms]  # every form: each shows its errors
        return self.is_bound and all(valid) and not self._errors

    @property
    def errors(self) -> list:
        if not self.is_bound:  # nothing sent, nothing wrong yet
            return list(self._errors)
        return [*self._errors, *(form.errors for form in self.forms if form.errors)]

    def __iter__(self):
        """Yield every field, named with its applicant's number when there are several."""
        for number, form in self.numbered():
            for field in form:
                yield _NumberedField(field, number) if self.is_group else field

    def non_field_errors(self) -> ErrorList:
        errors = ErrorList(self._errors)
        for form in self.forms:
            errors.extend(form.non_field_errors())
        return errors

    def add_error(self, field, error):
        """Add an error that concerns every applicant (a service's refusal)."""
        assert field is None, "an applicant's own field errors belong to their form"
        self._errors.extend(ValidationError(error).messages)

    def applicants(self, language) -> list[Applicant]:
        return [form.applicant(language) for form in self.forms]

    @property
    def birth_date_mismatches(self) -> list[int]:
        """Return the numbers of the applicants whose birth date differs from their NIK's."""
        return [number for number, form in self.numbered() if form.birth_date_mismatch]

    def pending_data(self) -> dict:
        """Return the cleaned answers as a POST would carry them, to keep in the session."""
        data = {COUNT_FIELD: str(self.count)}
        for form in self.forms:
            for name, value in form.cleaned_data.items():
                text = value.isoformat() if isinstance(value, date) else value
                data[form.add_prefix(name)] = text
        return data


def edited_applicants(data) -> dict | None:
    """Return a POST with an applicant added or removed as its buttons asked, or None.

    The answers typed so far are kept, the later applicants moving up when one is removed;
    the first applicant, who gives the contact, cannot be removed.
    """
    removed = next((int(m[1]) for key in data if (m := _REMOVE.fullmatch(key))), None)
    if ADD_FIELD not in data and removed is None:
        return None
    count, _refused = _count(data.get(COUNT_FIELD))
    applicants = [_answers_of(data, number) for number in range(1, count + 1)]
    if removed is not None and 2 <= removed <= count:
        del applicants[removed - 1]
    elif removed is None and count < settings.BOOKING_GROUP_MAX:
        applicants.append({})
    edited = {COUNT_FIELD: str(len(applicants))}
    for number, answers in enumerate(applicants, start=1):
        edited.update({field_key(number, name): value for name, value in answers.items()})
    return edited


def _answers_of(data, number) -> dict:
    # The n-th applicant's answers as typed, under the fields' own names.
    return {
        name: data[field_key(number, name)]
        for name in _fields_of(number)
        if field_key(number, name) in data
    }


class LookupForm(HoneypotMixin):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=32,
        error_messages={"required": _("Enter your booking code.")},
        help_text=_(
            "The 10 letters and digits on your confirmation; for a group, the group code "
            "of 12 opens every applicant."
        ),
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
            raise ValidationError(_("A booking code has 10 letters and digits, a group code 12."))
        return code

    def clean_nik(self):
        return clean_nik(self.cleaned_data["nik"])


class ContactCodeForm(forms.Form):
    """The one-time code sent to a new booking's contact, typed back."""

    one_time_code = forms.CharField(
        label=_("Code"),
        max_length=12,
        error_messages={"required": _("Type the 6 digits of the code we sent.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 -]*",
                "spellcheck": "false",
            }
        ),
    )

    def clean_one_time_code(self):
        return clean_contact_code(self.cleaned_data["one_time_code"])


class CancelForm(HoneypotMixin):
    confirm = forms.BooleanField(
        label=_("Yes, cancel this booking"),
        error_messages={"required": _("Tick the box to confirm the cancellation.")},
    )


class GroupCancelForm(CancelForm):
    confirm = forms.BooleanField(
        label=_("Yes, cancel the booking of every applicant of this group"),
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


class ChoicesForm(forms.Form):
    """Up to three ranked choices in a ballot: a session of a day, or any session of a day.

    A choice's value is "YYYY-MM-DD" (any session) or "YYYY-MM-DD/<window id>"; the options
    are the release's open days and their sessions.
    """

    choice1 = forms.ChoiceField(label=_("First choice"))
    choice2 = forms.ChoiceField(label=_("Second choice"), required=False)
    choice3 = forms.ChoiceField(label=_("Third choice"), required=False)

    def __init__(self, *args, options, windows, **kwargs):
        super().__init__(*args, **kwargs)
        self.windows = windows  # {id: window} of the options
        self.fields["choice1"].choices = [("", _("Choose a session or a day")), *options]
        for name in ("choice2", "choice3"):
            self.fields[name].choices = [("", _("No other choice")), *options]

    @staticmethod
    def initial_of(preferences) -> dict:
        """Return the form's initial values for an entry's stored [[day, window id], ...]."""
        return {
            f"choice{rank}": day if window is None else f"{day}/{window}"
            for rank, (day, window) in enumerate(preferences, start=1)
        }

    def preferences(self) -> list[tuple]:
        """Return the chosen (day, window or None) in rank, the empty ones left out."""
        chosen = []
        for name in ("choice1", "choice2", "choice3"):
            value = self.cleaned_data.get(name)
            if value:
                day, _slash, window = value.partition("/")
                chosen.append(
                    (date.fromisoformat(day), self.windows[int(window)] if window else None)
                )
        return chosen


class EntryAccessForm(HoneypotMixin):
    """An entry's code and the NIK of one of its applicants, to open it."""

    code = forms.CharField(
        label=_("Entry code"),
        max_length=32,
        error_messages={"required": _("Enter the entry code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    nik = LookupForm.base_fields["nik"]

    def clean_code(self):
        return normalize_code(self.cleaned_data["code"])

    def clean_nik(self):
        return clean_nik(self.cleaned_data["nik"])


class WithdrawEntryForm(EntryAccessForm):
    """An entry's code and the NIK of one of its applicants, to withdraw it."""

    confirm = forms.BooleanField(
        label=_("Yes, withdraw this entry from the ballot"),
        error_messages={"required": _("Tick the box to withdraw the entry.")},
    )


class OfferDecisionForm(forms.Form):
    """Accept or decline a place offered from a ballot's waiting list: the button pressed."""

    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=[("accept", _("Accept the place")), ("decline", _("Decline the place"))],
        error_messages={
            "required": _("Choose whether to accept or decline the place."),
            "invalid_choice": _("Choose whether to accept or decline the place."),
        },
    )
