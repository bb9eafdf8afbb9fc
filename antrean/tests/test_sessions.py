"""Sessions: Django's database store, read with plain SQL, reads what it stored and no more."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from antrean.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_is_read_back():
    stored = SessionStore()
    stored["pending"] = {"office": "palembang", "nik": "1671011705900001"}
    stored.save()

    read = SessionStore(session_key=stored.session_key)

    assert read["pending"] == {"office": "palembang", "nik": "1671011705900001"}
    assert read.session_key == stored.session_key


def test_an_expired_or_unknown_session_reads_empty_and_gets_a_new_key():
    stored = SessionStore()
    stored["pending"] = {"office": "palembang"}
    stored.save()
    Session.objects.filter(pk=stored.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    for key in (stored.session_key, "nosuchsessionkey0000000000000000"):
        read = SessionStore(session_key=key)
        assert read.get("pending") is None
        assert read.session_key is None
