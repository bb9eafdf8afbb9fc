"""Booking codes: drawn unguessable, typed back by people and scanners in any shape."""

import re
import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0/O, 1/I
CODE_LENGTH = 10  # 50 random bits

_LINK_PARTS = re.compile(r"[/?=&#\s]+")


def new_code() -> str:
    """Return a fresh booking code: 10 symbols from 32, 50 bits from the OS's random source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(value) -> str:
    """Return a booking code as stored: upper case, without spaces or dashes a clerk may type."""
    return "".join(ch for ch in str(value or "") if ch.isalnum()).upper()[: CODE_LENGTH + 2]


def is_well_formed(code: str) -> bool:
    """Return whether a normalised code has the length and the symbols of a booking code."""
    return len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)


def code_from_scan(value: str) -> str:
    """Return the booking code in what a clerk typed or a scanner read (a code or a link)."""
    code = normalize_code(value)
    if len(code) == CODE_LENGTH:
        return code
    for part in reversed(_LINK_PARTS.split(str(value or ""))):
        candidate = normalize_code(part)
        if is_well_formed(candidate):
            return candidate
    return code
