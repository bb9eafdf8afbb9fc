"""Indonesian mobile numbers: accept what people type, store +628… (E.164), as the phonenumbers
library's Indonesian mobile ranges allow."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MESSAGE = _("Enter an Indonesian mobile number, such as 0812 3456 7890 or +62 812 3456 7890.")
_SEPARATORS = re.compile(r"[\s.\-()]")
# ASCII digits only ([0-9]: \d, and phonenumbers, would take ١٢٣ or full-width digits too).
_TYPED = re.compile(r"^\+?[0-9]{4,16}$")


def normalize_phone(value) -> str:
    """Return a mobile number as +628…; raise ValidationError if it cannot be one."""
    number = _SEPARATORS.sub("", str(value or ""))
    if not _TYPED.fullmatch(number):
        raise ValidationError(MESSAGE, code="phone")
    if number.startswith("628"):
        number = "+" + number
    try:
        parsed = phonenumbers.parse(number, "ID")
    except phonenumbers.NumberParseException:
        raise ValidationError(MESSAGE, code="phone") from None
    mobile = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    if parsed.country_code != 62 or not mobile or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(MESSAGE, code="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
