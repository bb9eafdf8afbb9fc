"""The one-time code that shows a new booking's contact receives messages, and its limits.

A code proves only that the number (or the address) receives our messages, not who the
person is. It is 6 digits, kept as a keyed hash with a salt of its own, allows a few wrong
tries, ends with the hold, and a new one comes only after a wait that doubles. Codes sent
per block of 1,000 mobile numbers and per client address are counted in the shared cache,
so nobody pumps SMS through us.
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from .models import ContactCheck, Notification

CODE_DIGITS = 6
_KEY_SALT = "bookings.contact.code"
# The counters of codes sent run for an hour from the first.
SENDING_WINDOW = 60 * 60
# The number without its last three digits: a block of 1,000 numbers.
BLOCK_DIGITS = 3

MESSAGES = {
    "contact_code_wrong": _(
        "That is not the code we sent. Check the last message and try again (%(left)d tries left)."
    ),
    "contact_code_tries": _("Too many wrong codes. Ask for a new code."),
    "contact_code_format": _("Type the 6 digits of the code we sent."),
    "contact_check_over": _(
        "This booking was not confirmed in time and has lapsed: its place is free again. "
        "Please book again."
    ),
    "contact_code_wait": _("A new code can be sent in %(seconds)d seconds."),
    "contact_code_sends": _(
        "We have sent all the codes we can for this booking. Type the last one, or book again "
        "once this booking lapses."
    ),
    "contact_codes_limit": _(
        "Too many codes have been sent to this number or from this connection in the last "
        "hour. Please try again later."
    ),
}


def error(code, **params) -> ValidationError:
    """Return the refusal of this code, in the applicant's language."""
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def new_code() -> str:
    """Return a fresh one-time code: 6 digits from the OS's random source."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _mac(salt, code) -> str:
    return salted_hmac(_KEY_SALT, f"{salt}:{code}", algorithm="sha256").hexdigest()


def hash_code(code: str) -> str:
    """Return what is stored of a code: its salt and its keyed hash."""
    salt = secrets.token_hex(8)
    return f"{salt}${_mac(salt, code)}"


def code_matches(stored: str, typed: str) -> bool:
    """Return whether a typed code is the one whose hash is stored, in constant time."""
    salt, _sep, mac = stored.partition("$")
    return constant_time_compare(mac, _mac(salt, typed))


def clean_code(value) -> str:
    """Return the digits of a typed code (spaces and dashes dropped), or raise if not 6."""
    digits = "".join(ch for ch in str(value or "") if not ch.isspace() and ch != "-")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        raise error("contact_code_format")
    return digits


def channel_for(phone: str) -> str:
    """Return how the code goes: by SMS to a mobile number, else by e-mail."""
    return Notification.Channel.SMS if phone else Notification.Channel.EMAIL


def resend_at(check: ContactCheck) -> datetime:
    """Return when a new code may be sent: the wait doubles with each code sent."""
    return check.sent_at + settings.CONTACT_CODE_RESEND_WAIT * 2 ** (check.sends - 1)


def tries_left(check: ContactCheck) -> int:
    return max(settings.CONTACT_CODE_TRIES - check.tries, 0)


def pending_check(subject) -> ContactCheck | None:
    """Return the check a booking (through its group, if it has one) or a group still waits
    on, even past its time until the beat lapses it; None once confirmed or lapsed, or when
    none was needed. Read with select_related("contact_check", "group__contact_check")."""
    holder = subject.group if getattr(subject, "group_id", None) else subject
    check = getattr(holder, "contact_check", None)
    return check if check is not None and check.state == ContactCheck.State.PENDING else None


def count_sending(phone: str, client: str) -> None:
    """Count one code sent to this number and from this client, or raise contact_codes_limit
    when either has had its hour's codes already."""
    counters = [(f"client:{client}", settings.CONTACT_CODES_PER_CLIENT)] if client else []
    if phone:
        block = phone[:-BLOCK_DIGITS]
        counters.append((f"block:{block}", settings.CONTACT_CODES_PER_NUMBER_BLOCK))
    cache = caches[settings.RATELIMIT_USE_CACHE]  # where no crowd of other entries evicts it
    for name, limit in counters:
        key = f"contact-codes:{name}"
        cache.add(key, 0, SENDING_WINDOW)
        try:
            sent = cache.incr(key)
        except ValueError:  # expired between add and incr: a new hour begins
            cache.set(key, 1, SENDING_WINDOW)
            sent = 1
        if sent > limit:
            raise error("contact_codes_limit")
