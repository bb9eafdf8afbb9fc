"""Proof of work against bots: a self-hosted ALTCHA challenge before booking or entering.

A client that has tried to book or enter PROOF_OF_WORK_AFTER times within the hour, and
everyone who enters a ballot, first has their browser (or app) find the number whose
SHA-256 with a salt we chose gives the challenge: about a second for a phone, a cost that
adds up for a bot sending thousands. The challenge is signed with a key derived from
SECRET_KEY and expires; no outside service is asked and nothing is tracked. A solution
counts once: its challenge is remembered in the rate-limit cache until it expires. Off with
PROOF_OF_WORK=0, and with RATELIMIT_ENABLE=0 (load tests).
"""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import altcha
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

ATTEMPTS_WINDOW = 60 * 60  # attempts to book or enter are counted for an hour
CHALLENGE_LIFETIME = timedelta(minutes=10)

MESSAGES = {
    "proof_required": _(
        "Please let your browser do a short check that you are not a robot, then send again."
    ),
}


def _cache():
    return caches[settings.RATELIMIT_USE_CACHE]


def _key() -> str:
    return salted_hmac("bookings.proof", "altcha", algorithm="sha256").hexdigest()


def enabled() -> bool:
    return settings.PROOF_OF_WORK and settings.RATELIMIT_ENABLE


def count_attempt(client: str) -> int:
    """Count one attempt of a client to book or enter; return its attempts this hour."""
    key = f"proof-attempts:{client}"
    cache = _cache()
    cache.add(key, 0, ATTEMPTS_WINDOW)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new hour begins
        cache.set(key, 1, ATTEMPTS_WINDOW)
        return 1


def required(client: str, *, entering: bool = False) -> bool:
    """Return whether this client must send a solved challenge: always to enter a ballot,
    and to book once it has tried PROOF_OF_WORK_AFTER times this hour."""
    if not enabled():
        return False
    if entering:
        return True
    attempts = _cache().get(f"proof-attempts:{client}", 0)
    return attempts >= settings.PROOF_OF_WORK_AFTER


def challenge() -> dict:
    """Return a new signed challenge, as the ALTCHA widget and the app read it."""
    made = altcha.create_challenge_v1(
        hmac_key=_key(),
        max_number=settings.PROOF_OF_WORK_MAX_NUMBER,
        # Wall time, as the library checks it (time.time()), whatever clock the app reads.
        expires=datetime.fromtimestamp(time.time(), tz=UTC) + CHALLENGE_LIFETIME,
    )
    return {
        "algorithm": made.algorithm,
        "challenge": made.challenge,
        "maxnumber": made.max_number,
        "salt": made.salt,
        "signature": made.signature,
    }


def verified(payload: str) -> bool:
    """Return whether a solution (the widget's base64 JSON) solves one of our challenges, in
    time, and for the first time."""
    if not payload or len(payload) > 2000:
        return False
    try:
        ok, _error = altcha.verify_solution_v1(payload, _key(), check_expires=True)
        challenge_hash = str(json.loads(base64.b64decode(payload))["challenge"]) if ok else ""
    except (ValueError, TypeError, KeyError):  # not base64, not JSON, not a challenge
        return False
    if not ok:
        return False
    seconds = int(CHALLENGE_LIFETIME.total_seconds())
    return _cache().add(f"proof-used:{challenge_hash}", 1, seconds)  # False: seen before


def refuse_without_proof(client: str, payload: str, *, entering: bool = False) -> None:
    """Count this attempt, and raise proof_required if the client must prove work and the
    payload does not."""
    needed = required(client, entering=entering)
    if enabled():
        count_attempt(client)
    if needed and not verified(payload):
        raise ValidationError(MESSAGES["proof_required"], code="proof_required")
