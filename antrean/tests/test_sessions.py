"""Sessions: Django's database store in plain SQL reads what it stored and no more, and writes
in one statement."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import UpdateError
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


def test_a_changed_session_is_written_back_with_its_new_expiry():
    stored = SessionStore()
    stored["pending"] = {"office": "palembang"}
    stored.save()
    stored["pending"] = {"office": "makassar"}
    stored.set_expiry(600)
    stored.save()

    row = Session.objects.get(pk=stored.session_key)
    assert SessionStore(session_key=stored.session_key)["pending"] == {"office": "makassar"}
    assert timedelta(seconds=590) < row.expire_date - timezone.now() <= timedelta(seconds=600)


def test_the_expiry_is_stored_as_django_stores_it():
    # So that the ORM's comparisons (clearsessions) and this store's agree: on SQLite a date
    # is text, and an expiry written as "...+00:00" matched no lookup of the ORM's.
    stored = SessionStore()
    stored["pending"] = {"office": "palembang"}
    stored.save()
    expiry = Session.objects.get(pk=stored.session_key).expire_date

    assert Session.objects.filter(expire_date=expiry).exists()
    assert not Session.objects.filter(expire_date__lt=expiry).exists()


def test_a_new_key_that_clashes_is_drawn_again(monkeypatch):
    taken = SessionStore()
    taken["pending"] = {"office": "palembang"}
    taken.save()
    keys = iter([taken.session_key, "freshkey" + "0" * 24])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))

    stored = SessionStore()
    stored["pending"] = {"office": "makassar"}
    stored.save()  # inside the test's transaction: the refused key spoils nothing

    assert stored.session_key == "freshkey" + "0" * 24
    assert SessionStore(session_key=taken.session_key)["pending"] == {"office": "palembang"}
    assert Session.objects.count() == 2


def test_a_session_deleted_meanwhile_is_not_written_again():
    stored = SessionStore()
    stored["pending"] = {"office": "palembang"}
    stored.save()
    Session.objects.filter(pk=stored.session_key).delete()
    stored["pending"] = {"office": "makassar"}

    with pytest.raises(UpdateError):
        stored.save()
    assert not Session.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_each_write_is_one_statement(django_assert_num_queries):
    stored = SessionStore()
    stored["pending"] = {"office": "palembang"}
    with django_assert_num_queries(1):  # no look for the key first, no BEGIN and COMMIT
        stored.save()
    stored["pending"] = {"office": "makassar"}
    with django_assert_num_queries(1):
        stored.save()
    assert SessionStore(session_key=stored.session_key)["pending"] == {"office": "makassar"}
