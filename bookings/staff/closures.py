"""Staff pages that close an office's day that holds bookings, or many offices at once: a
form, the preview of every move, then the close (bookings.closures does the work)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import closures
from offices import clock
from offices.access import changeable_offices
from offices.models import Office

from .forms import CloseDayForm, ClosureDecisionForm, OutageForm
from .views import STAFF_MESSAGES, _context, _require

NOTHING_RUNS = _("No session of this office runs in these hours on that day.")


def _initial(request, office=None):
    day = request.GET.get("day") or (clock.office_today(office) if office else None)
    return {"office": request.GET.get("office"), "day": day}


def _decision(request, found):
    """The preview's decision form: bound when the clerk answered it, else as proposed."""
    if "close" in request.POST or "raise_quota" in request.POST:
        decision = ClosureDecisionForm(request.POST)
        decision.is_valid()
        return decision
    return ClosureDecisionForm(initial={"raise_quota": "yes" if found.raise_quota else "no"})


def _done(request, closure):
    messages.success(
        request,
        ngettext(
            "%(office)s is closed on %(day)s. %(moved)d applicant moved, %(left)d left "
            "without a place (cancelled with priority); each is being told.",
            "%(office)s is closed on %(day)s. %(moved)d applicants moved, %(left)d left "
            "without a place (cancelled with priority); each is being told.",
            closure.moved,
        )
        % {
            "office": closure.office.name,
            "day": formats.date_format(closure.date, "l, j F Y"),
            "moved": closure.moved,
            "left": closure.cancelled,
        },
    )


def close_day(request, *, model_admin):
    """Close a day (or part of it) of one office: the form, its preview, then the close."""
    _require(request, "bookings.add_closure")
    offices = changeable_offices(request)
    form = CloseDayForm(request.POST or None, offices=offices, initial=_initial(request))
    found = decision = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        office, day = data["office"], data["day"]
        windows = closures.scope(office, day, data["starts"], data["ends"])
        if windows is None:
            form.add_error("starts" if data["starts"] else "day", NOTHING_RUNS)
        else:
            found, decision = _preview_or_close(request, form, office, day, windows)
            if isinstance(found, HttpResponseRedirect):
                return found
    context = _context(
        request,
        model_admin,
        _("Close a day that holds bookings"),
        form=form,
        found=found,
        decision=decision,
        no_office=None if offices.exists() else STAFF_MESSAGES["no_office"],
    )
    return TemplateResponse(request, "bookings/staff/close_day.html", context)


def _preview_or_close(request, form, office, day, windows):
    data = form.cleaned_data
    try:
        found = closures.preview(office=office, day=day, windows=windows)
    except ValidationError as exc:
        form.add_error("day", exc)
        return None, None
    decision = _decision(request, found)
    if decision.is_bound and decision.is_valid():
        raising = decision.raising
        if raising is not None and raising != found.raise_quota:
            found = closures.preview(office=office, day=day, windows=windows, raise_quota=raising)
        if "close" in request.POST:
            try:
                closure = closures.close(
                    office=office,
                    day=day,
                    windows=windows,
                    reason=data["reason"],
                    by=request.user,
                    raise_quota=found.raise_quota,
                    expected=request.POST.get("expected", "")[:32],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                _done(request, closure)
                url = reverse("admin:bookings_closure_change", args=[closure.pk])
                return HttpResponseRedirect(url), None
    return found, decision


def close_offices(request, *, model_admin):
    """A supervisor closes many offices at once (a national outage): a preview per office,
    then every office closed in one go, or none."""
    _require(request, "bookings.add_outage")
    offices = Office.objects.order_by("name")  # an outage reaches every office
    form = OutageForm(
        request.POST or None,
        offices=offices,
        initial={"offices": list(offices), "day": request.GET.get("day")},
    )
    previews = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = list(data["offices"])
        previews = closures.preview_outage(
            offices=chosen, day=data["day"], starts=data["starts"], ends=data["ends"]
        )
        if "close" in request.POST:
            expected = {
                office.pk: request.POST.get(f"expected-{office.pk}", "") for office in chosen
            }
            try:
                outage = closures.close_outage(
                    offices=chosen,
                    day=data["day"],
                    starts=data["starts"],
                    ends=data["ends"],
                    reason=data["reason"],
                    by=request.user,
                    expected=expected,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                previews = closures.preview_outage(
                    offices=chosen, day=data["day"], starts=data["starts"], ends=data["ends"]
                )
            else:
                moved = sum(c.moved for c in outage.closures.all())
                messages.success(
                    request,
                    _("%(offices)d offices closed; %(moved)d applicants moved, each told.")
                    % {"offices": outage.closures.count(), "moved": moved},
                )
                return HttpResponseRedirect(reverse("admin:bookings_closure_changelist"))
    context = _context(
        request,
        model_admin,
        _("Close many offices at once"),
        form=form,
        previews=previews,
        refused=any(isinstance(p, ValidationError) for _o, p in previews or ()),
    )
    return TemplateResponse(request, "bookings/staff/close_offices.html", context)
