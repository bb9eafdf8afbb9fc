"""The step between a new booking and its code: the applicant types back the code we sent."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from antrean.client_ip import client_key
from bookings import contact, limits, services
from bookings.codes import is_group_code, normalize_code
from bookings.models import Entry, Notification
from bookings.nik import mask_email, mask_phone
from bookings.notifications.messages import addressee
from offices import clock

from .forms import ContactCodeForm
from .holding import holds_entry, lookup_redirect, owned_booking, owned_group

# A refusal that ends the step: the booking has lapsed, its page says so.
ENDED = "contact_check_over"


def waiting_for_code(request, subject):
    """Return the confirmation step's redirect while a booking or group waits for its code,
    else None: its code, QR code and papers are shown only once the contact is confirmed."""
    if contact.pending_check(subject) is None:
        return None
    return redirect("contact-confirm", code=subject.code)


@never_cache
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def confirm_contact(request, code):
    group_code = is_group_code(normalize_code(code))
    subject = owned_group(request, code) if group_code else owned_booking(request, code)
    if subject is None:
        return lookup_redirect(code)
    done = reverse("group-detail" if group_code else "booking-detail", args=[subject.code])
    office = subject.office if not group_code else None
    return _step(request, contact.pending_check(subject), done, office)


@never_cache
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def confirm_entry(request, pk, code):
    """The same step for a ballot entry this browser made."""
    entry = (
        Entry.objects.select_related("release__office", "contact_check")
        .filter(release_id=pk, code=normalize_code(code))
        .first()
    )
    if entry is None or not holds_entry(request, entry.code):
        return redirect("ballot", pk=pk)
    done = f"{reverse('ballot', args=[pk])}?code={entry.code}"
    return _step(request, contact.pending_check(entry), done, entry.release.office)


def _step(request, check, done, office):
    # Type back the code, or ask for a new one; once the check is over, on to `done`.
    if check is None:
        return redirect(done)
    form, refused = ContactCodeForm(), None
    try:
        if "resend" in request.POST:
            services.resend_contact_code(check=check, client=client_key(request))
            messages.success(request, _("A new code is on its way. The last one works no more."))
            return redirect(request.path)
        if request.method == "POST":
            form = ContactCodeForm(request.POST)
            if form.is_valid():
                services.confirm_contact(check=check, code=form.cleaned_data["one_time_code"])
                return redirect(done)
    except ValidationError as exc:
        if exc.code == ENDED:
            return redirect(done)
        if form.is_bound:
            form.add_error("one_time_code", exc)
        else:  # a new code asked for too soon, or past the limits
            refused = exc.messages[0]
        check.refresh_from_db()
    status = 422 if form.errors else 429 if refused else 200
    context = {**_context(check, office), "form": form, "refused": refused}
    return render(request, "bookings/public/confirm_contact.html", context, status=status)


def _context(check, office):
    now = clock.now()
    to = addressee(check)
    sms = check.channel == Notification.Channel.SMS
    wait = max(int((contact.resend_at(check) - now).total_seconds()), 0)
    return {
        "check": check,
        "is_entry": check.entry_id is not None,
        "office": office or to.office,
        "by_sms": sms,
        "address": mask_phone(to.phone) if sms else mask_email(to.email),
        "lapsed": now >= check.expires_at,
        "tries_left": contact.tries_left(check),
        "can_resend": check.sends < settings.CONTACT_CODE_SENDS,
        "resend_wait": wait,
    }
