"""Security headers on every answer: a strict CSP, a Permissions-Policy, HSTS preload opted in."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _directives(response) -> dict:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.mark.parametrize("path", ["/", "/api/v1/docs", "/admin/login/", "/healthz"])
def test_a_strict_content_security_policy(client, path):
    directives = _directives(client.get(path, secure=True))
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)


def test_no_page_may_use_the_camera_the_microphone_or_the_location(client):
    policy = client.get("/", secure=True)["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy


@pytest.mark.parametrize("preload", [False, True])
def test_hsts_preload_only_when_asked(settings, preload):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_PRELOAD = preload
    # A new client: SecurityMiddleware reads its settings when it is built.
    header = Client().get("/", secure=True)["Strict-Transport-Security"]
    assert ("preload" in header) is preload
