"""The admin login: locked after repeated failures (django-axes), sessions end after a day.

On the real clock: django-axes reads the time its own way, so nothing here pins it.
"""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from bookings.tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_admin_login_locks_after_repeated_failures(client, settings, fast_hashing):
    settings.AXES_ENABLED = True
    make_user("petugas.x", password=PASSWORD)
    url = reverse("admin:login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "petugas.x", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(url, {"username": "petugas.x", "password": "wrong"})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    # Locked: even the right password is refused now.
    response = client.post(url, {"username": "petugas.x", "password": PASSWORD})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert "_auth_user_id" not in client.session


def test_the_admin_login_works_below_the_limit(client, settings, fast_hashing):
    settings.AXES_ENABLED = True
    make_user("petugas.x", password=PASSWORD)
    url = reverse("admin:login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(url, {"username": "petugas.x", "password": "wrong"})
    response = client.post(url, {"username": "petugas.x", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_staff_sessions_end_after_a_working_day(client, settings, fast_hashing):
    assert settings.SESSION_COOKIE_AGE == 9 * 60 * 60
    make_user("petugas.x", password=PASSWORD)
    response = client.post(reverse("admin:login"), {"username": "petugas.x", "password": PASSWORD})
    assert response.status_code == 302
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 9 * 60 * 60
    session = Session.objects.get(session_key=cookie.value)
    left = session.expire_date - timezone.now()
    assert timedelta(hours=8, minutes=59) < left <= timedelta(hours=9)
    assert client.get(reverse("admin:index")).status_code == 200
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
