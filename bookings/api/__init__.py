"""The JSON API v1 for the mobile app, built on django-ninja: /api/v1/, docs at /api/v1/docs."""

from django.conf import settings
from django.db import DatabaseError
from django.urls import re_path
from ninja import NinjaAPI, Swagger

from . import ballots, errors, groups, queue
from .endpoints import booking_examples, router

DESCRIPTION = """\
Book a window at a passport office (Kantor Imigrasi) from the "Antrian Paspor Online" app.

All bodies are JSON, sent with `Content-Type: application/json`; a body of any other type
is refused with 415 (so no page of another site can post to the API from its visitors'
browsers without a CORS preflight, which the API never allows). Dates are `YYYY-MM-DD` and
times `HH:MM`, both in the office's local time (WIB, WITA or WIT). The NIK travels only in
request bodies, never in a URL, and answers show it masked. Every error is a JSON body
`{"error", "message"}` with a 4xx status; a 422 also names each bad field in `fields`.
Messages follow the request's `language` or its Accept-Language header (Indonesian by
default).
"""
GROUPS = f"""
A family or an umrah group books up to {settings.BOOKING_GROUP_MAX} applicants into one window
in one request, all or none: `POST /bookings` with `applicants`. Each member gets a booking code
of its own and the group a code (12 symbols) that, with any member's NIK, opens, cancels or
reschedules them all under `/groups/{{code}}/`. One member alone keeps using
`/bookings/{{code}}/`; moved to another window alone, it leaves the group.
"""

HEALTH = {
    "get": {
        "operationId": "healthz",
        "summary": "Health check",
        "description": "200 when the database answers, 503 otherwise (outside /api/v1/).",
        "tags": ["health"],
        "responses": {
            status: {
                "description": description,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string"},
                                "database": {"type": "string"},
                            },
                            "required": ["status"],
                        }
                    }
                },
            }
            for status, description in (("200", "The database answers."), ("503", "It does not."))
        },
    }
}


def _refuses_other_media_types(operation):
    """Document the 415 that a body other than JSON gets (errors.json_errors)."""
    error = next(
        (r for status, r in operation["responses"].items() if str(status).startswith("4")), None
    )
    if error is not None:
        operation["responses"]["415"] = {**error, "description": "Unsupported Media Type"}


class AntreanAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Return the OpenAPI document, with the health check that lives beside the API."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["paths"]["/healthz"] = HEALTH
        # Examples that work today, so "Try it out" (and schemathesis) can book one applicant
        # and a group.
        try:
            examples = booking_examples()
        except DatabaseError:  # the document is still served (or exported) without a database
            examples = None
        for path, operations in schema["paths"].items():
            if "post" in operations:
                _refuses_other_media_types(operations["post"])
            if path.endswith("/bookings") and examples:
                body = operations["post"]["requestBody"]["content"]["application/json"]
                body["examples"] = examples
        return schema


api = AntreanAPI(
    title="Antrean API",
    version="1",
    description=DESCRIPTION + GROUPS,
    urls_namespace="api-v1",
    # The app sends no cookies: no session authentication, hence no CSRF token either.
    auth=None,
    docs=Swagger(settings={"validatorUrl": None}),
)
errors.install(api)
api.add_router("", router)
api.add_router("", groups.router)
api.add_router("", ballots.router)
api.add_router("", queue.router)

_patterns, _app, app_name = api.urls
for _pattern in _patterns:
    _pattern.callback = errors.json_errors(_pattern.callback)
urlpatterns = [*_patterns, re_path(r"", errors.not_found_view)]
