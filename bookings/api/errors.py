"""Every error of the API as a JSON body with a 4xx status, in the requested language."""

import functools
import json
import logging

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError, Throttled
from ninja.errors import ValidationError as RequestInvalid

from bookings.services import MESSAGES

from .schemas import SHAPES

logger = logging.getLogger(__name__)

LANGUAGES = {code for code, _name in settings.LANGUAGES}

NOT_FOUND = _("Nothing was found here.")
BOOKING_NOT_FOUND = _("No booking matches this code and NIK.")
GROUP_NOT_FOUND = _("No group booking matches this code and NIK.")
OFFICE_NOT_FOUND = _("No office has this code.")
INVALID = _("Some fields are not valid; see each field's message.")
BAD_BODY = _("The request body is not valid JSON.")
BAD_REQUEST = _("The request could not be read.")
RATE_LIMITED = _("Too many requests. Please wait a minute and try again.")
METHOD_NOT_ALLOWED = _("This method is not allowed here.")
NOT_JSON = _("Send the request body as JSON, with the header Content-Type: application/json.")
# A body of any other type could be posted by a page of another site from its visitors'
# browsers without a CORS preflight (a form, or fetch with text/plain); JSON cannot.
JSON_TYPE = "application/json"
SERVER_ERROR = _("Something went wrong on our side. Please try again later.")

# Service error codes (bookings.services.MESSAGES) that are conflicts with the booking's state.
CONFLICTS = {
    "full": "full",
    "day_full": "full",
    "duplicate": "duplicate",
    "not_cancellable": "not_cancellable",
    "not_reschedulable": "not_reschedulable",
    "reschedule_limit": "reschedule_limit",
    "same_slot": "same_slot",
    "group_full": "group_full",
    "group_day_full": "group_full",
    "group_nik_held": "group_nik_held",
    "group_nothing_active": "group_nothing_active",
    "release_not_open": "release_not_open",
    "entered_already": "entered_already",
    "entry_not_changeable": "entry_not_changeable",
    "not_released": "not_released",
    "waitlist_first": "waitlist_first",
    "offer_over": "offer_over",
    "contact_limit": "contact_limit",
    "blocked": "blocked",
    "contact_check_over": "contact_check_over",
    "contact_code_tries": "contact_code_tries",
    "contact_code_sends": "contact_code_sends",
    "nothing_to_keep": "nothing_to_keep",
    "not_priority": "not_priority",
    "no_place": "full",
    "no_waiting_list": "no_waiting_list",
}
# Refusals that say "not now": 429 with the service's message.
TOO_SOON = {"contact_code_wait": "contact_code_wait", "contact_codes_limit": "contact_codes_limit"}
# Service error codes that say what is wrong with one field of the request.
FIELD_OF_CODE = {
    "closed": "date",
    "not_bookable": "date",
    "window_mismatch": "window",
    "window_started": "window",
    "group_size": "applicants",
    "group_member": "applicants",
    "group_repeated_nik": "applicants",
    "entry_size": "applicants",
    "preferences": "choices",
    "preference_day": "choices",
    "preference_closed": "choices",
    "preference_window": "choices",
    "contact_code_wrong": "one_time_code",
    "contact_code_format": "one_time_code",
    "not_in_range": "date",
}

# Messages for what pydantic finds wrong, by its error type (Django's own wording where it has one).
FIELD_MESSAGES = {
    "missing": _("This field is required."),
    "extra_forbidden": _("This field is not allowed."),
    "string_type": _("Enter text."),
    "string_unicode": _("This text contains characters that are not allowed."),
    "string_too_long": _("Enter at most %(max_length)s characters."),
    "int_type": _("Enter a whole number."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "greater_than_equal": _("Ensure this value is greater than or equal to %(limit_value)s."),
    "less_than_equal": _("Ensure this value is less than or equal to %(limit_value)s."),
    "literal_error": _("Choose one of: %(expected)s."),
    "date_format": _("Enter a date as YYYY-MM-DD."),
    "date_invalid": _("Enter a valid date."),
    "text_characters": _("This text contains characters that are not allowed."),
    "model_type": _("The body must be a JSON object."),
    "model_attributes_type": _("The body must be a JSON object."),
    "dict_type": _("The body must be a JSON object."),
    "list_type": _("Enter a list."),
    "booking_shape": _(
        "Send one applicant's details, or several applicants in this list, but not both."
    ),
}
INVALID_VALUE = _("Enter a valid value.")
NOT_AN_OBJECT = _("Enter a JSON object.")
OBJECT_TYPES = ("model_type", "model_attributes_type", "dict_type")
# The one list a request may hold: a group's applicants.
LIST_LENGTH = ("too_short", "too_long")
# What pydantic finds wrong with the body as a whole that belongs to one field.
FIELD_OF_TYPE = {"booking_shape": "applicants"}


def request_language(request) -> str:
    """Return the language of the answer: the body's "language", else Accept-Language, else id."""
    chosen = _body_language(request)
    if chosen:
        return chosen
    current = (translation.get_language() or "")[:2]
    return current if current in LANGUAGES else settings.LANGUAGE_CODE


def _body_language(request):
    if request.method != "POST":
        return None
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError, SuspiciousOperation):
        return None
    language = data.get("language") if isinstance(data, dict) else None
    return language if isinstance(language, str) and language in LANGUAGES else None


# The refusals of a group for want of places, whose `left` the answer carries.
PLACES_LEFT = frozenset({"group_full", "group_day_full"})


def error_response(status, error, message, fields=None, places_left=None):
    """Return the error body {"error", "message"[, "fields"][, "places_left"]}.

    Call it in the answer's language.
    """
    body = {"error": error, "message": str(message)}
    if fields is not None:
        body["fields"] = {name: [str(text) for text in texts] for name, texts in fields.items()}
    if places_left is not None:
        body["places_left"] = places_left
    # ASCII escapes: a field name echoed from the request can never break the encoding.
    return JsonResponse(body, status=status)


def _in_request_language(handler):
    @functools.wraps(handler)
    def wrapped(request, exc):
        with translation.override(request_language(request)):
            return handler(request, exc)

    return wrapped


def _field_name(loc):
    # ninja's locations: ("body", <argument>, field, ...) or ("query" | "path", field, ...);
    # a booking body's shape (one applicant or a group) comes after the argument.
    rest = loc[2:] if loc and loc[0] == "body" else loc[1:]
    if loc[:1] == ("body",) and rest[:1] and rest[0] in SHAPES:
        rest = rest[1:]
    return ".".join(str(part) for part in rest) or "body"


def _field_message(error, name):
    if error["type"] in LIST_LENGTH:
        return MESSAGES["group_size"] % {"max": settings.BOOKING_GROUP_MAX}
    if error["type"] in OBJECT_TYPES and name != "body":  # an item of a list
        return NOT_AN_OBJECT
    message = FIELD_MESSAGES.get(error["type"], INVALID_VALUE)
    context = dict(error.get("ctx") or {})
    context["limit_value"] = context.get("ge", context.get("le"))
    if "%(" not in str(message):
        return message
    try:
        return message % context
    except (KeyError, TypeError, ValueError):
        return INVALID_VALUE


@_in_request_language
def on_request_invalid(request, exc: RequestInvalid):
    """Answer 422 naming each field the request's shape got wrong (types, lengths, choices)."""
    fields = {}
    for error in exc.errors:
        name = FIELD_OF_TYPE.get(error["type"]) or _field_name(tuple(error.get("loc") or ()))
        fields.setdefault(name, []).append(_field_message(error, name))
    return error_response(422, "invalid", INVALID, fields)


@_in_request_language
def on_service_error(request, exc: ValidationError):
    """Map a service's ValidationError code to 409, 429, 404, or 422 naming the field.

    A group refused for want of places says how many are left (`places_left`, the
    number the service's message gives).
    """
    if hasattr(exc, "error_dict"):
        return error_response(422, "invalid", INVALID, exc.message_dict)
    code = exc.code or ""
    if code in CONFLICTS:
        left = (exc.params or {}).get("left") if code in PLACES_LEFT else None
        return error_response(409, CONFLICTS[code], exc.messages[0], places_left=left)
    if code in TOO_SOON:
        return error_response(429, TOO_SOON[code], exc.messages[0])
    if code == "proof_required":  # solve GET /proof-of-work, send it in the Altcha header
        return error_response(428, code, exc.messages[0])
    if code == "not_found":
        return error_response(404, "not_found", BOOKING_NOT_FOUND)
    field = "nik" if code.startswith("nik") else FIELD_OF_CODE.get(code, "__all__")
    return error_response(422, "invalid", INVALID, {field: exc.messages})


@_in_request_language
def on_not_found(request, exc: Http404):
    """Answer 404 with the message the endpoint chose (the same for a wrong code or NIK)."""
    known = (BOOKING_NOT_FOUND, GROUP_NOT_FOUND, OFFICE_NOT_FOUND)
    message = exc.args[0] if exc.args and exc.args[0] in known else NOT_FOUND
    return error_response(404, "not_found", message)


@_in_request_language
def on_throttled(request, exc: Throttled):
    """Answer 429 to a client over its rate limit."""
    return error_response(429, "rate_limited", RATE_LIMITED)


@_in_request_language
def on_http_error(request, exc: HttpError):
    """Answer 400 to a body that is not JSON."""
    if 400 <= exc.status_code < 500:
        message = BAD_BODY if exc.status_code == 400 else BAD_REQUEST
        return error_response(exc.status_code, "bad_request", message)
    return on_unexpected(request, exc)


@_in_request_language
def on_suspicious(request, exc: SuspiciousOperation):
    """Answer 400 to what Django finds suspicious (a body larger than it reads, for one)."""
    return error_response(400, "bad_request", BAD_REQUEST)


@_in_request_language
def on_unexpected(request, exc: Exception):
    """Log a bug and answer 500 in JSON; the fuzz run and the hostile tests keep this unused."""
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "server_error", SERVER_ERROR)


def install(api):
    """Replace ninja's exception handlers: every error leaves as JSON, never an HTML page."""
    api.add_exception_handler(RequestInvalid, on_request_invalid)
    api.add_exception_handler(ValidationError, on_service_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(SuspiciousOperation, on_suspicious)
    api.add_exception_handler(Exception, on_unexpected)


def _has_body(request) -> bool:
    # From the header, without reading the body (a body too large to read is refused later).
    length = request.META.get("CONTENT_LENGTH") or "0"
    return not length.isdigit() or int(length) > 0


def json_errors(view):
    """Wrap a URL's view so that ninja's own 404 and 405 answers are JSON bodies too, and a
    body that is not JSON is refused with 415 before anything reads it."""

    def wrapped(request, *args, **kwargs):
        if _has_body(request) and request.content_type != JSON_TYPE:
            with translation.override(request_language(request)):
                return error_response(415, "unsupported_media_type", NOT_JSON)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found_view(request)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            with translation.override(request_language(request)):
                response = error_response(405, "method_not_allowed", METHOD_NOT_ALLOWED)
            response["Allow"] = allowed
        return response

    wrapped.__dict__.update(view.__dict__)  # keeps csrf_exempt
    wrapped.__name__ = getattr(view, "__name__", "api_view")
    return wrapped


@csrf_exempt  # it writes nothing; a POST without a token still deserves the JSON 404
def not_found_view(request, *args, **kwargs):
    """Answer any other URL under the API with the JSON 404."""
    with translation.override(request_language(request)):
        return error_response(404, "not_found", NOT_FOUND)
