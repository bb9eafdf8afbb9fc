"""The proof-of-work widget (ALTCHA) on the booking and ballot pages, when proof is due."""

import json

from django.utils.translation import gettext as _

from antrean.client_ip import client_key
from bookings import proof


def widget(request, *, entering: bool = False) -> dict | None:
    """Return what the page's widget needs (a fresh challenge, its words in the page's
    language) when this client must prove work; None otherwise."""
    if not proof.required(client_key(request), entering=entering):
        return None
    strings = {
        "label": _("I am not a robot"),
        "verifying": _("Checking…"),
        "verified": _("Checked"),
        "error": _("The check failed. Please try again."),
        "expired": _("The check has expired. Please try again."),
        "verificationRequired": _("Please wait for the check to finish."),
        "waitAlert": _("Checking… please wait."),
        "ariaLinkLabel": "ALTCHA",
        "footer": "",
    }
    return {
        "challenge": json.dumps(proof.challenge()),
        "strings": json.dumps(strings, ensure_ascii=False),
    }


def refuse_without_proof(request, *, entering: bool = False) -> None:
    """Count this attempt; raise proof_required if the page's solution is due and missing."""
    proof.refuse_without_proof(
        client_key(request), request.POST.get("altcha", ""), entering=entering
    )
