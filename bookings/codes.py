"""Booking and group codes: drawn unguessable, typed back by people and scanners in any shape.

A booking's code has 10 symbols and a group's 12, so the length alone tells which a code
names: the two can never be mistaken for each other, whatever is drawn.
"""

import base64
import re
import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0/O, 1/I
CODE_LENGTH = 10  # 50 random bits
GROUP_CODE_LENGTH = 12  # 60 random bits: it opens every member of the group
_LENGTHS = (CODE_LENGTH, GROUP_CODE_LENGTH)

_LINK_PARTS = re.compile(r"[/?=&#\s]+")


# Base 32 of random bytes spelled in our alphabet: each symbol is 5 random bits, so each of
# the 32 symbols is as likely as any other (a draw writes thousands of codes at once).
_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET.encode())


def _draw(count, length) -> list[str]:
    # 8 symbols to each 5 random bytes (no padding), cut into codes: one read of the OS's
    # random source however many codes (a draw writes a thousand at once).
    symbols = count * length
    random_bytes = secrets.token_bytes(-(-symbols // 8) * 5)
    text = base64.b32encode(random_bytes).translate(_BASE32).decode()
    return [text[start : start + length] for start in range(0, symbols, length)]


def new_code() -> str:
    """Return a fresh booking code: 10 symbols from 32, 50 bits from the OS's random source."""
    return _draw(1, CODE_LENGTH)[0]


def new_codes(count: int) -> list[str]:
    """Return `count` fresh booking codes at once, each as new_code draws it."""
    return _draw(count, CODE_LENGTH)


def new_group_code() -> str:
    """Return a fresh group code: 12 symbols from 32, 60 bits from the OS's random source."""
    return _draw(1, GROUP_CODE_LENGTH)[0]


def new_group_codes(count: int) -> list[str]:
    """Return `count` fresh group codes at once, each as new_group_code draws it."""
    return _draw(count, GROUP_CODE_LENGTH)


def normalize_code(value) -> str:
    """Return a code as stored: upper case, without spaces or dashes a clerk may type."""
    return "".join(ch for ch in str(value or "") if ch.isalnum()).upper()[: GROUP_CODE_LENGTH + 2]


def is_well_formed(code: str) -> bool:
    """Return whether a normalised code is a booking's or a group's: its length, its symbols."""
    return len(code) in _LENGTHS and set(code) <= set(CODE_ALPHABET)


def is_group_code(code: str) -> bool:
    """Return whether a normalised, well-formed code names a group rather than one booking."""
    return len(code) == GROUP_CODE_LENGTH


def grouped(code: str) -> str:
    """Return a code in blocks for reading aloud and typing: ABCDE-FGHJK, ABCD-EFGH-JKLM."""
    size = 4 if is_group_code(code) else 5
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def code_from_scan(value: str) -> str:
    """Return the code in what a clerk typed or a scanner read (a code or a link)."""
    code = normalize_code(value)
    if len(code) in _LENGTHS:
        return code
    for part in reversed(_LINK_PARTS.split(str(value or ""))):
        candidate = normalize_code(part)
        if is_well_formed(candidate):
            return candidate
    return code
