"""The NIK (Nomor Induk Kependudukan): parse, validate, read its birth date, mask it."""

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Province codes of the Dukcapil numbering (Kemendagri), including the Papua provinces of 2022.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96", "97",
    }
)  # fmt: skip

MESSAGES = {
    "length": _("A NIK has exactly 16 digits."),
    "digits": _("A NIK contains digits only."),
    "province": _("The first two digits of this NIK are not a province code."),
    "date": _("Digits 7 to 12 of this NIK are not a valid birth date."),
    "serial": _("The last four digits of a NIK cannot be 0000."),
}

_SEPARATORS = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class NikInfo:
    nik: str
    province: str
    birth_day: int
    birth_month: int
    birth_year_2digit: int
    female: bool

    def matches_birth_date(self, birth_date: date) -> bool:
        """Return whether a birth date agrees with the day, month and year in the NIK."""
        return (
            birth_date.day == self.birth_day
            and birth_date.month == self.birth_month
            and birth_date.year % 100 == self.birth_year_2digit
        )


def normalize_nik(value) -> str:
    return _SEPARATORS.sub("", str(value or ""))


def parse_nik(value) -> NikInfo:
    """Return what a NIK says about its holder; raise ValidationError if it cannot be a NIK."""
    nik = normalize_nik(value)
    if not nik.isascii() or not nik.isdigit():
        raise ValidationError(MESSAGES["digits"], code="nik_digits")
    if len(nik) != 16:
        raise ValidationError(MESSAGES["length"], code="nik_length")
    if nik[:2] not in PROVINCE_CODES:
        raise ValidationError(MESSAGES["province"], code="nik_province")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day > 40
    if female:
        day -= 40
    try:
        # 20YY is a leap year exactly when 19YY or 20YY can be: 29 February needs YY % 4 == 0.
        date(2000 + year, month, day)
    except ValueError:
        raise ValidationError(MESSAGES["date"], code="nik_date") from None
    if nik[12:] == "0000":
        raise ValidationError(MESSAGES["serial"], code="nik_serial")
    return NikInfo(nik, nik[:2], day, month, year, female)


def as_nik(term) -> str:
    """Return the NIK a search term is (16 ASCII digits once normalised), or an empty string."""
    nik = normalize_nik(str(term or "").strip())
    return nik if len(nik) == 16 and nik.isascii() and nik.isdigit() else ""


def validate_nik(value):
    parse_nik(value)


def mask_nik(nik: str) -> str:
    """Return a NIK with its middle eight digits hidden: 1671••••••••0001."""
    if not nik:
        return ""
    if len(nik) <= 8:
        return "•" * len(nik)
    return f"{nik[:4]}{'•' * (len(nik) - 8)}{nik[-4:]}"


def mask_phone(phone: str) -> str:
    """Return a phone number with all but its prefix and last three digits hidden."""
    if not phone:
        return ""
    keep = 3
    head = phone[:5] if phone.startswith("+62") else phone[:3]
    return f"{head}{'•' * max(0, len(phone) - len(head) - keep)}{phone[-keep:]}"


def mask_email(email: str) -> str:
    """Return an e-mail address with all but the first letter of its name hidden."""
    name, _at, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}" if domain else ""
