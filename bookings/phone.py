"""Indonesian mobile numbers: accept what people type, store +62…."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MESSAGE = _("Enter an Indonesian mobile number, such as 0812 3456 7890 or +62 812 3456 7890.")
_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"^\+628[0-9]{7,11}$")  # [0-9]: \d would let ١٢٣ through


def normalize_phone(value) -> str:
    """Return a mobile number as +628…; raise ValidationError if it cannot be one."""
    number = _SEPARATORS.sub("", str(value or ""))
    if number.startswith("08"):
        number = "+62" + number[1:]
    elif number.startswith("628"):
        number = "+" + number
    if not _MOBILE.fullmatch(number):
        raise ValidationError(MESSAGE, code="phone")
    return number
