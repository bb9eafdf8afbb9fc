"""The applicant's fields drawn in Python are the fields crispy-forms draws: every field of
the booking form, for the first applicant and a group's member, blank, filled, refused, with
answers that need escaping, in both languages (bookings/templatetags/applicant_fields.py)."""

import re
from datetime import date

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from bookings.public.forms import ApplicantForm, MemberForm, member_prefix
from bookings.templatetags.applicant_fields import applicant_field
from bookings.tests.factories import applicant_data

TODAY = date(2026, 12, 5)


def tidy(html) -> str:
    """The markup without the whitespace crispy's templates leave between and in tags."""
    html = re.sub(r"\s+", " ", str(html))
    html = re.sub(r"\s*(<|>)\s*", r"\1", html)
    return re.sub(r" +(/?>)", r"\1", html).strip()


def both_ways(form_class, number, **kwargs):
    """The form drawn by applicant_field, and the same form drawn by crispy through Django's
    widget templates, field by field."""
    prefix = member_prefix(number)
    ours = form_class(prefix=prefix, today=TODAY, **kwargs)
    theirs = form_class(prefix=prefix, today=TODAY, renderer=DjangoTemplates(), **kwargs)
    ours.is_bound and ours.is_valid()
    theirs.is_bound and theirs.is_valid()
    return [(tidy(applicant_field(ours[n])), tidy(as_crispy_field(theirs[n]))) for n in ours.fields]


def posted(number, **answers):
    data = applicant_data(**answers)
    prefix = member_prefix(number)
    return {(k if prefix is None else f"{prefix}-{k}"): v for k, v in data.items()}


STATES = {
    "blank": {},
    "given answers": {"initial": applicant_data(full_name='Siti "Ani" <Aminah>')},
    "valid": {"data": "valid"},
    "refused": {"data": {"nik": "12345", "full_name": "", "birth_date": "17-05-1990",
                         "phone": "12", "email": "siti@", "purpose": "", "passport_type": "x",
                         "website": "http://spam.example"}},
    "needs escaping": {"data": {"full_name": "<script>alert(1)</script> & co", "purpose": "\"'><"}},
}  # fmt: skip


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize(("form_class", "number"), [(ApplicantForm, 1), (MemberForm, 2)])
@pytest.mark.parametrize("state", STATES)
def test_each_field_is_drawn_as_crispy_draws_it(state, form_class, number, language):
    kwargs = dict(STATES[state])
    if "data" in kwargs:
        answers = {} if kwargs["data"] == "valid" else kwargs["data"]
        kwargs["data"] = posted(number, **answers)
    with translation.override(language):
        drawn = both_ways(form_class, number, **kwargs)
    assert len(drawn) >= 6
    for ours, theirs in drawn:
        assert ours == theirs


def test_a_refused_field_says_why_and_points_to_it():
    form = ApplicantForm(posted(1, nik="12345", purpose=""), today=TODAY)
    form.is_valid()
    nik = str(applicant_field(form["nik"]))
    assert 'aria-invalid="true"' in nik
    assert 'aria-describedby="id_nik_helptext id_nik_error"' in nik
    assert '<div id="id_nik_error" class="invalid-feedback">' in nik
    purpose = str(applicant_field(form["purpose"]))
    assert '<fieldset aria-describedby="id_purpose_error">' in purpose
    assert purpose.count('class="form-check-input is-invalid"') == len(
        form["purpose"].field.choices
    )


def test_answers_are_escaped():
    form = ApplicantForm(posted(1, full_name="<script>alert(1)</script>"), today=TODAY)
    form.is_valid()
    html = str(applicant_field(form["full_name"]))
    assert "<script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_labels_and_choices_are_escaped_as_crispy_escapes_them():
    drawn = []
    for renderer in (None, DjangoTemplates()):
        form = ApplicantForm(posted(1, purpose="a&b"), today=TODAY, renderer=renderer)
        form.fields["full_name"].label = 'Name <b>&</b> "quoted"'
        form.fields["purpose"].choices = [("a&b", 'Hajj & "Umrah" <x>'), ("c", "C")]
        form.is_valid()
        draw = applicant_field if renderer is None else as_crispy_field
        drawn.append([tidy(draw(form[name])) for name in ("full_name", "purpose")])
    assert drawn[0] == drawn[1]
    assert "&lt;b&gt;" in drawn[0][0]
    assert "Hajj &amp; &quot;Umrah&quot; &lt;x&gt;" in drawn[0][1]
