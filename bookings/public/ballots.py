"""A ballot release's public page: what it hands out and when, its hashes, its draw, and the
JSON and the script anyone uses to check the draw. No personal data."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from antrean.client_ip import client_key
from bookings import ballots, contact, draw, limits
from bookings.codes import normalize_code
from bookings.models import Entry, Release
from bookings.nik import mask_nik
from bookings.notifications.links import offer_from_token
from bookings.templatetags.antrean import long_date, session
from offices import clock
from offices.schedule import day_plans

from . import robots
from .forms import (
    ApplicantsForm,
    ChoicesForm,
    EntryAccessForm,
    OfferDecisionForm,
    WithdrawEntryForm,
    edited_applicants,
)
from .holding import holds_entry, remember, remember_entry, remember_group

SCRIPT = Path(draw.__file__)


def _release(pk) -> Release:
    return get_object_or_404(Release.objects.select_related("office"), pk=pk)


@never_cache
def release_page(request, pk):
    release = _release(pk)
    published = ballots.published(release)
    outcome = published["outcome"] or {}
    results = [o["result"] for o in outcome.values()]
    code = normalize_code(request.GET.get("code", ""))
    entry = release.entries.filter(code=code).first() if code else None
    return render(
        request,
        "bookings/public/ballot.html",
        {
            "release": release,
            "office": release.office,
            "published": published,
            "entry_count": len(published["entries"] or []),
            "won": results.count("won"),
            "waiting": results.count("waiting"),
            "code": code,
            "entry": entry,
            "result": outcome.get(entry.receipt) if entry else None,
            "withdrawn": entry is not None and entry.status == Entry.Status.WITHDRAWN,
            "waits_for_code": entry is not None and contact.pending_check(entry) is not None,
            "can_enter": release.is_open(clock.now()),
            "can_change": entry is not None
            and entry.status == Entry.Status.ENTERED
            and release.is_open(clock.now())
            and holds_entry(request, entry.code),
        },
    )


@never_cache
def release_json(request, pk):
    """Answer what the release publishes, as the file bookings/draw.py checks."""
    response = JsonResponse(
        ballots.published(_release(pk)), json_dumps_params={"indent": 1, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="release-{pk}.json"'
    return response


def draw_script(request):
    """Answer the draw's own code, to run on a release's JSON: python3 draw.py release.json."""
    response = HttpResponse(SCRIPT.read_bytes(), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="draw.py"'
    return response


def _choices(release):
    """Return the options of a release's choices and its windows by id, from its open days."""
    office = release.office
    options, windows = [], {}
    for plan in day_plans(office, release.first_day, release.last_day):
        if not plan.open:
            continue
        day = plan.date
        options.append((day.isoformat(), _("%(day)s, any session") % {"day": long_date(day)}))
        for window in plan.windows:
            windows[window.pk] = window
            label = f"{long_date(day)}, {session(window)} {office.zone_abbreviation}"
            options.append((f"{day.isoformat()}/{window.pk}", label))
    return options, windows


@never_cache
@sensitive_post_parameters("nik", "full_name", "birth_date", "phone", "email")
@ratelimit(group=limits.BOOKING, key="ip", rate=limits.BOOKING_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def enter(request, pk):
    """Enter a ballot: the applicants (one, or a group as one entry) and up to three choices."""
    release = _release(pk)
    if not release.is_open(clock.now()):
        return redirect("ballot", pk=release.pk)
    today = clock.office_today(release.office)
    options, windows = _choices(release)
    data = request.POST if request.method == "POST" else None
    edited = edited_applicants(request.POST) if data is not None else None
    if edited is not None:  # "add an applicant" or "remove": the same answers, redrawn
        form = ApplicantsForm(initial=edited, today=today)
        choices = ChoicesForm(initial=request.POST.dict(), options=options, windows=windows)
    else:
        form = ApplicantsForm(data, today=today)
        choices = ChoicesForm(data, options=options, windows=windows)
    refused = False
    # `&`, not `and`: both forms are checked, so both show their errors at once.
    if data is not None and edited is None and form.is_valid() & choices.is_valid():
        try:
            robots.refuse_without_proof(request, entering=True)
            entry = ballots.enter(
                release=release,
                applicants=form.applicants(get_language()[:2]),
                preferences=choices.preferences(),
                client=client_key(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            refused = True
        else:
            remember_entry(request, entry.code)
            if contact.pending_check(entry):
                return redirect("ballot-entry-confirm", pk=release.pk, code=entry.code)
            return redirect(f"{reverse('ballot', args=[release.pk])}?code={entry.code}")
    context = {
        "release": release,
        "office": release.office,
        "form": form,
        "choices": choices,
        "proof": robots.widget(request, entering=True),
    }
    return render(
        request, "bookings/public/ballot_enter.html", context, status=409 if refused else 200
    )


@never_cache
@sensitive_post_parameters("nik")
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def withdraw(request, pk):
    """Withdraw an entry while entries are open: its code and one of its applicants' NIK."""
    release = _release(pk)
    form = WithdrawEntryForm(request.POST if request.method == "POST" else None)
    refused = False
    if request.method == "POST" and form.is_valid():
        entry = ballots.find_entry(release, form.cleaned_data["code"], form.cleaned_data["nik"])
        try:
            if entry is None:
                raise ValidationError(_("No entry of this ballot matches this code and NIK."))
            ballots.withdraw_entry(entry=entry)
        except ValidationError as exc:
            form.add_error(None, exc)
            refused = True
        else:
            return redirect(f"{reverse('ballot', args=[release.pk])}?code={entry.code}")
    context = {"release": release, "office": release.office, "form": form}
    return render(
        request, "bookings/public/ballot_withdraw.html", context, status=409 if refused else 200
    )


@never_cache
@sensitive_post_parameters("nik")
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def open_entry(request, pk):
    """Open an entry to change its choices: its code and one of its applicants' NIK."""
    release = _release(pk)
    form = EntryAccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        entry = ballots.find_entry(release, form.cleaned_data["code"], form.cleaned_data["nik"])
        if entry is not None:
            remember_entry(request, entry.code)
            return redirect("ballot-change", pk=release.pk, code=entry.code)
        form.add_error(None, _("No entry of this ballot matches this code and NIK."))
    context = {"release": release, "office": release.office, "form": form}
    return render(request, "bookings/public/ballot_open_entry.html", context)


@never_cache
@ratelimit(group=limits.BOOKING, key="ip", rate=limits.BOOKING_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def change(request, pk, code):
    """Change an entry's choices while entries are open: in a browser that holds the entry."""
    release = _release(pk)
    entry = release.entries.filter(code=normalize_code(code)).first()
    if entry is None or not holds_entry(request, entry.code):
        return redirect("ballot-open-entry", pk=release.pk)
    options, windows = _choices(release)
    data = request.POST if request.method == "POST" else None
    choices = ChoicesForm(
        data, options=options, windows=windows, initial=ChoicesForm.initial_of(entry.preferences)
    )
    refused = False
    if data is not None and choices.is_valid():
        try:
            ballots.change_entry(entry=entry, preferences=choices.preferences())
        except ValidationError as exc:
            choices.add_error(None, exc)
            refused = True
        else:
            return redirect(f"{reverse('ballot', args=[release.pk])}?code={entry.code}")
    context = {"release": release, "office": release.office, "entry": entry, "form": choices}
    return render(
        request, "bookings/public/ballot_change.html", context, status=409 if refused else 200
    )


@never_cache
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def offer(request, token):
    """A place offered from a waiting list, opened from its message's link: accept or decline."""
    found = offer_from_token(token)
    if found is None:
        raise Http404
    form = OfferDecisionForm(request.POST if request.method == "POST" else None)
    refused = False
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "accept":
                return _accepted(request, ballots.accept_offer(offer=found))
            ballots.decline_offer(offer=found)
            return redirect("offer", token=token)
        except ValidationError as exc:
            form.add_error(None, exc)
            refused = True
        found.refresh_from_db()
    entry = found.entry
    context = {
        "offer": found,
        "office": found.office,
        "release": found.release,
        "entry": entry,
        "applicants": [(a.full_name, mask_nik(a.nik)) for a in entry.applicants.all()],
        "is_open": found.is_open(clock.now()),
        "form": form,
    }
    return render(request, "bookings/public/offer.html", context, status=409 if refused else 200)


def _accepted(request, members):
    """Hold the new booking (or group) in this browser and show it."""
    first = members[0]
    if first.group_id is None:
        remember(request, first.code)
        return redirect("booking-detail", code=first.code)
    remember_group(request, first.group, members)
    return redirect("group-detail", code=first.group.code)
