"""Ballot releases: entries while open, one per NIK, the list fixed at the close."""

import json
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import ballots, codes, draw, tasks
from bookings.models import Booking, Entry, EntryApplicant, Notification, Release
from bookings.tests.factories import (
    assert_counters_match_bookings,
    book_at,
    make_applicant,
    make_family,
    make_nik,
    make_release,
    window_at,
)
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)  # a Friday, 14.00
CLOSES = OPENS + timedelta(days=3)
DRAW = CLOSES + timedelta(hours=1)
DURING = OPENS + timedelta(days=1)
MONDAY, FRIDAY = date(2017, 9, 11), date(2017, 9, 15)  # the week after next


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def release(office):
    return make_release(office, MONDAY, FRIDAY)


@contextmanager
def refused(code):
    """Expect a refusal with this code, and nothing written."""
    before = (Entry.objects.count(), EntryApplicant.objects.count())
    with pytest.raises(ValidationError) as caught:
        yield caught
    assert caught.value.code == code, caught.value
    assert (Entry.objects.count(), EntryApplicant.objects.count()) == before


def enter(release, applicants=None, preferences=None, now=DURING):
    office = release.office
    return ballots.enter(
        release=release,
        applicants=applicants or [make_applicant()],
        preferences=preferences or [(MONDAY, window_at(office, MONDAY))],
        now=now,
    )


def test_a_release_shows_the_hash_of_a_seed_it_keeps_secret(release):
    published = ballots.published(release)

    assert published["seed_hash"] == draw.sha256_hex(release.seed)
    assert release.seed not in str(published)
    assert published["entries"] is None and published["entries_hash"] is None


def test_a_release_refuses_times_out_of_order(office):
    with pytest.raises(ValidationError):
        ballots.make_release(
            office=office,
            first_day=MONDAY,
            last_day=FRIDAY,
            opens_at=CLOSES,
            closes_at=OPENS,
            draw_at=DRAW,
            public_value_source="-",
        )
    assert not Release.objects.exists()


def test_an_entry_gets_a_code_and_a_salted_receipt(release):
    applicant = make_applicant()

    entry = enter(release, [applicant])

    assert len(entry.code) == 10
    assert len(entry.receipt) == 64 and applicant.nik not in entry.receipt
    assert entry.preferences == [[MONDAY.isoformat(), window_at(release.office, MONDAY).pk]]
    assert list(entry.applicants.values_list("nik", flat=True)) == [applicant.nik]


def test_a_group_enters_as_one_entry_with_its_preferences_in_rank(release):
    office = release.office
    wishes = [
        (MONDAY, window_at(office, MONDAY, 10)),
        (FRIDAY, None),  # any session that Friday
        (date(2017, 9, 13), window_at(office, date(2017, 9, 13), 13)),
    ]

    entry = enter(release, make_family(3), wishes)

    assert entry.applicants.count() == 3
    assert entry.preferences[1] == [FRIDAY.isoformat(), None]


@pytest.mark.parametrize("now", [OPENS - timedelta(seconds=1), CLOSES, CLOSES + timedelta(days=1)])
def test_no_entry_before_the_opening_or_from_the_close(release, now):
    with refused("release_not_open"):
        enter(release, now=now)


def test_one_entry_per_nik_per_release_a_group_members_too(release):
    family = make_family(3)
    enter(release, family)

    with refused("entered_already") as caught:
        enter(release, [make_applicant(nik=family[2].nik)])
    assert "Applicant 1" in caught.value.messages[0]
    assert family[2].nik not in caught.value.messages[0]


def test_a_withdrawn_entry_frees_its_niks_and_stays_listed_struck(release):
    family = make_family(2)
    first = enter(release, family)

    ballots.withdraw_entry(entry=first, now=DURING)
    again = enter(release, family)
    closed = ballots.close_release(release=release, now=CLOSES)

    listed = {e["receipt"]: e["withdrawn"] for e in ballots.published(closed)["entries"]}
    assert listed == {first.receipt: True, again.receipt: False}


def test_an_entry_cannot_be_withdrawn_after_the_close(release):
    entry = enter(release)
    with refused("entry_not_changeable"):
        ballots.withdraw_entry(entry=entry, now=CLOSES)


def test_a_nik_that_holds_a_booking_cannot_enter(release, now):
    applicant = make_applicant()
    book_at(release.office, date(2017, 9, 6), nik=applicant.nik, now=now)
    with refused("group_nik_held"):
        enter(release, [applicant])


@pytest.mark.parametrize(
    "wishes, code",
    [
        ([], "preferences"),
        ([(MONDAY, None)] * 2, "preferences"),
        (
            [(MONDAY, None), (FRIDAY, None), (date(2017, 9, 12), None), (date(2017, 9, 13), None)],
            "preferences",
        ),
        ([(date(2017, 9, 18), None)], "preference_day"),
        ([(date(2017, 9, 12), None)], "preference_closed"),
    ],
)
def test_preferences_are_one_to_three_open_days_of_the_release(release, wishes, code):
    DayOverrideFactory(office=release.office, date=date(2017, 9, 12))
    with refused(code):
        ballots.enter(
            release=release, applicants=[make_applicant()], preferences=wishes, now=DURING
        )


def test_a_session_of_another_weekday_is_refused(release):
    tuesday_window = window_at(release.office, date(2017, 9, 12), 8)
    with refused("preference_window"):
        enter(release, preferences=[(MONDAY, tuesday_window)])


def test_the_close_fixes_the_list_and_publishes_its_hash(release):
    entries = [enter(release), enter(release, make_family(2))]

    closed = ballots.close_release(release=release, now=CLOSES)

    published = ballots.published(closed)
    assert closed.state == Release.State.CLOSED
    assert sorted(e["receipt"] for e in published["entries"]) == sorted(e.receipt for e in entries)
    assert {e["size"] for e in published["entries"]} == {1, 2}
    assert published["entries_hash"] == draw.entries_hash(published["entries"])
    # Nobody can enter or withdraw any more; closing again changes nothing.
    with refused("release_not_open"):
        enter(release, now=CLOSES)
    assert ballots.close_release(release=closed, now=DRAW).entries_hash == closed.entries_hash


def test_a_release_cannot_close_before_its_time(release):
    with pytest.raises(ValidationError) as caught:
        ballots.close_release(release=release, now=DURING)
    assert caught.value.code == "release_not_closing"


def test_the_published_list_holds_no_personal_data(release):
    applicant = make_applicant(full_name="Siti Aminah", phone="+6281234567890")
    enter(release, [applicant])
    closed = ballots.close_release(release=release, now=CLOSES)

    text = str(ballots.published(closed))

    assert applicant.nik not in text and "Siti" not in text and "+62" not in text


def test_the_entry_time_is_not_in_the_list(release):
    enter(release)
    closed = ballots.close_release(release=release, now=CLOSES)
    (listed,) = ballots.published(closed)["entries"]
    assert set(listed) == {"receipt", "size", "preferences", "withdrawn"}


def test_the_list_is_in_receipt_order_not_in_the_order_of_entry(release):
    entered = [enter(release).receipt for _ in range(6)]
    closed = ballots.close_release(release=release, now=CLOSES)
    listed = [e["receipt"] for e in ballots.published(closed)["entries"]]
    assert listed == sorted(entered)


# The draw.


@pytest.fixture
def small_release(db):
    # Monday's 08.00 session has 3 places, its 10.00 session 2; the other days are closed.
    office = OfficeFactory(windows=[(time(8), time(10), 3), (time(10), time(12), 2)])
    for day in (date(2017, 9, 12), date(2017, 9, 13), date(2017, 9, 14), FRIDAY):
        DayOverrideFactory(office=office, date=day)
    return make_release(office, MONDAY, FRIDAY)


def fill(release):
    """Enter four singles and a family of three for Monday's sessions; return the entries."""
    office = release.office
    eight, ten = window_at(office, MONDAY, 8), window_at(office, MONDAY, 10)
    singles = [enter(release, preferences=[(MONDAY, eight), (MONDAY, ten)]) for _ in range(4)]
    family = enter(release, make_family(3, email="a@example.com"), [(MONDAY, None)])
    return [*singles, family]


def test_a_release_is_drawn_only_once_closed_and_due_with_its_public_value(small_release):
    fill(small_release)
    with pytest.raises(ValidationError) as caught:
        ballots.draw_release(release=small_release, public_value="7310.52", now=DRAW)
    assert caught.value.code == "release_not_drawable"
    closed = ballots.close_release(release=small_release, now=CLOSES)
    with pytest.raises(ValidationError) as caught:
        ballots.draw_release(release=closed, public_value="7310.52", now=CLOSES)
    assert caught.value.code == "release_not_drawable"
    with pytest.raises(ValidationError) as caught:
        ballots.draw_release(release=closed, now=DRAW)
    assert caught.value.code == "public_value_missing"
    assert not Booking.objects.exists()


def test_the_draw_books_the_winners_and_lists_the_rest_and_anyone_can_check_it(small_release):
    entries = fill(small_release)
    ballots.close_release(release=small_release, now=CLOSES)

    drawn = ballots.draw_release(release=small_release, public_value="7310.52", now=DRAW)

    assert drawn.state == Release.State.DRAWN
    published = ballots.published(drawn)
    assert draw.check(json.loads(json.dumps(published))) == []
    assert published["seed"] == drawn.seed and published["public_value"] == "7310.52"
    results = Counter(o["result"] for o in published["outcome"].values())
    taken = Booking.objects.filter(status=Booking.Status.BOOKED).count()
    assert taken <= 5 and results["won"] >= 1 and results["waiting"] >= 1
    for entry in Entry.objects.filter(pk__in=[e.pk for e in entries]):
        outcome = published["outcome"][entry.receipt]
        assert entry.status == outcome["result"]
        if entry.status == Entry.Status.WON:
            members = (
                [entry.booking]
                if entry.booking.group_id is None
                else list(entry.booking.group.members.all())
            )
            assert len(members) == entry.applicants.count()  # a group is never split
            assert {m.window_id for m in members} == {outcome["window"]}
        else:
            assert entry.waiting_position == outcome["position"]
    assert_counters_match_bookings()
    # Drawn twice (two beats, a retry): the same outcome, nothing booked again.
    again = ballots.draw_release(release=small_release, public_value="9999", now=DRAW)
    assert again.outcome == drawn.outcome and again.public_value == "7310.52"
    assert Booking.objects.count() == taken


def test_the_script_says_the_published_draw_matches_and_not_once_a_receipt_changes(
    small_release, tmp_path
):
    fill(small_release)
    ballots.close_release(release=small_release, now=CLOSES)
    drawn = ballots.draw_release(release=small_release, public_value="7310.52", now=DRAW)
    path = tmp_path / "release.json"
    published = ballots.published(drawn)
    path.write_text(json.dumps(published), encoding="utf-8")
    script = [sys.executable, "-I", draw.__file__, str(path)]

    assert subprocess.run(script, capture_output=True, check=False).returncode == 0
    published["entries"][0]["receipt"] = draw.sha256_hex("forged")
    path.write_text(json.dumps(published), encoding="utf-8")
    assert subprocess.run(script, capture_output=True, check=False).returncode == 1


def test_an_applicant_who_booked_elsewhere_since_entering_is_struck(small_release, now):
    applicant = make_applicant()
    struck = enter(small_release, [applicant])
    ballots.close_release(release=small_release, now=CLOSES)
    book_at(OfficeFactory(), date(2017, 9, 6), nik=applicant.nik, now=now)

    drawn = ballots.draw_release(release=small_release, public_value="1", now=DRAW)

    assert drawn.outcome[struck.receipt] == {"result": "withdrawn"}
    assert Booking.objects.filter(nik=applicant.nik).count() == 1


def test_a_winning_group_hears_once_and_its_members_get_their_own_codes(small_release):
    office = small_release.office
    family = enter(small_release, make_family(3, email="a@example.com"), [(MONDAY, None)])
    ballots.close_release(release=small_release, now=CLOSES)

    ballots.draw_release(release=small_release, public_value="1", now=DRAW)

    family.refresh_from_db()
    group = family.booking.group
    assert group.members.count() == 3
    assert {m.window for m in group.members.all()} == {window_at(office, MONDAY, 8)}
    assert Notification.objects.filter(group=group, kind="confirmation").count() == 2


def test_a_drawn_booking_holds_what_its_applicant_entered_as_one_booked_online_would(
    small_release,
):
    office = small_release.office
    eight = window_at(office, MONDAY, 8)
    applicant = make_applicant(
        nik=make_nik(date(1962, 2, 2)),
        full_name="Nur Aisyah",
        birth_date=date(1961, 1, 1),
        passport_type="electronic",
    )
    entry = enter(small_release, [applicant], [(MONDAY, eight)])
    ballots.close_release(release=small_release, now=CLOSES)

    ballots.draw_release(release=small_release, public_value="1", now=DRAW)

    entry.refresh_from_db()
    booking = entry.booking
    assert (booking.nik, booking.full_name, booking.birth_date) == (
        applicant.nik,
        "Nur Aisyah",
        date(1961, 1, 1),
    )
    assert booking.birth_date_mismatch  # the NIK says otherwise
    assert (booking.purpose, booking.passport_type, booking.application_type) == (
        applicant.purpose,
        "electronic",
        applicant.application_type,
    )
    assert (booking.email, booking.phone, booking.language) == (
        applicant.email,
        applicant.phone,
        applicant.language,
    )
    assert (booking.office, booking.date, booking.window) == (office, MONDAY, eight)
    assert booking.starts_at == datetime(2017, 9, 11, 8, 0, tzinfo=WIB)
    assert booking.ends_at == datetime(2017, 9, 11, 10, 0, tzinfo=WIB)
    assert (booking.channel, booking.status, booking.group) == ("online", "booked", None)
    assert booking.created_at == DRAW
    sent = Notification.objects.filter(booking=booking, kind="confirmation")
    assert sorted(sent.values_list("channel", flat=True)) == ["email", "sms"]


def test_a_drawn_code_that_clashes_draws_every_code_again_and_books_once(
    small_release, monkeypatch
):
    fill(small_release)
    ballots.close_release(release=small_release, now=CLOSES)
    taken = book_at(OfficeFactory(), MONDAY, now=DURING).code
    real_new_codes = codes.new_codes
    clashing = iter([taken])

    def first_draw_clashes(count):
        fresh = real_new_codes(count)
        return [next(clashing, None) or fresh[0], *fresh[1:]]

    monkeypatch.setattr("bookings.codes.new_codes", first_draw_clashes)

    drawn = ballots.draw_release(release=small_release, public_value="1", now=DRAW)

    won = [o for o in drawn.outcome.values() if o["result"] == "won"]
    sizes = {e["receipt"]: e["size"] for e in drawn.entries_list}
    booked = Booking.objects.filter(office=small_release.office)
    assert booked.count() == sum(sizes[r] for r, o in drawn.outcome.items() if o in won)
    assert Booking.objects.filter(code=taken).count() == 1
    assert Entry.objects.filter(status=Entry.Status.WON, booking__isnull=False).count() == len(won)
    assert_counters_match_bookings()


def test_an_entry_written_as_the_release_closes_is_refused_not_lost(release, monkeypatch):
    # The entry passed the time check; the close committed before its insert.
    real_is_open = Release.is_open

    def open_then_closed(self, now):
        opened = real_is_open(self, now)
        ballots.close_release(release=Release.objects.get(pk=self.pk), now=CLOSES)
        return opened

    monkeypatch.setattr(Release, "is_open", open_then_closed)
    with refused("release_not_open"):
        enter(release)
    assert ballots.published(Release.objects.get(pk=release.pk))["entries"] == []


def test_beat_closes_and_draws_each_release_once_when_due(small_release):
    fill(small_release)

    assert ballots.run_due(now=DURING) == (0, 0)
    assert ballots.run_due(now=CLOSES) == (1, 0)
    assert ballots.run_due(now=DRAW) == (0, 0)  # no public value typed in yet
    Release.objects.filter(pk=small_release.pk).update(public_value="7310.52")
    assert ballots.run_due(now=DRAW) == (0, 1)
    assert ballots.run_due(now=DRAW) == (0, 0)
    assert Release.objects.get(pk=small_release.pk).state == Release.State.DRAWN


def test_the_beat_hands_each_due_draw_to_a_task_of_its_own(small_release, monkeypatch, clock):
    fill(small_release)
    ballots.run_due(now=CLOSES)
    Release.objects.filter(pk=small_release.pk).update(public_value="7310.52")
    handed = []
    monkeypatch.setattr(
        tasks.draw_due_release, "apply_async", lambda args, **o: handed.append((args, o))
    )
    clock.now = DRAW

    assert tasks.run_due_ballots() == (0, 1)

    assert handed == [((small_release.pk,), {"expires": tasks.DRAW_HANDOFF_SECONDS})]
    assert Release.objects.get(pk=small_release.pk).state == Release.State.CLOSED
    assert tasks.draw_due_release(small_release.pk) is True  # as the worker runs it
    booked = Booking.objects.filter(office=small_release.office).count()
    assert 0 < booked <= 5
    assert tasks.draw_due_release(small_release.pk) is True  # handed on twice: drawn once
    assert Booking.objects.filter(office=small_release.office).count() == booked
    assert_counters_match_bookings()


def test_a_supervisor_draws_a_late_release_by_hand(small_release, clock):
    from io import StringIO

    from django.core.management import CommandError, call_command

    fill(small_release)
    ballots.close_release(release=small_release, now=CLOSES)
    clock.now = DRAW + timedelta(days=1)
    out = StringIO()

    call_command("draw_release", str(small_release.pk), "7310.52", stdout=out)

    assert out.getvalue().startswith("Drawn: ")
    assert Release.objects.get(pk=small_release.pk).public_value == "7310.52"
    with pytest.raises(CommandError, match="No ballot release"):
        call_command("draw_release", "999999", "1")


def test_the_published_json_from_the_command_is_what_the_script_checks(small_release, tmp_path):
    from django.core.management import call_command

    fill(small_release)
    ballots.close_release(release=small_release, now=CLOSES)
    ballots.draw_release(release=small_release, public_value="7310.52", now=DRAW)
    path = tmp_path / "release.json"
    with path.open("w", encoding="utf-8") as out:
        call_command("release_json", str(small_release.pk), stdout=out)

    result = subprocess.run(
        [sys.executable, "-I", draw.__file__, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0 and result.stdout.startswith("matches"), result.stdout


# ---- changing an entry's choices -------------------------------------------------------


def test_an_entry_s_choices_change_while_open_with_a_new_receipt(release):
    office = release.office
    entry = enter(release)
    before = entry.receipt
    ten = window_at(office, FRIDAY, 10)

    changed = ballots.change_entry(
        entry=entry, preferences=[(FRIDAY, ten), (MONDAY, None)], now=DURING
    )

    assert changed.preferences == [[FRIDAY.isoformat(), ten.pk], [MONDAY.isoformat(), None]]
    assert changed.receipt != before and changed.code == entry.code
    assert [(c.rank, c.day, c.window_id) for c in changed.choices.all()] == [
        (1, FRIDAY, ten.pk),
        (2, MONDAY, None),
    ]
    closed = ballots.close_release(release=release, now=CLOSES)
    assert [e["receipt"] for e in closed.entries_list] == [changed.receipt]


def test_an_entry_cannot_change_after_the_close_or_once_withdrawn_or_to_bad_choices(release):
    entry = enter(release)
    with refused("preferences"):
        ballots.change_entry(entry=entry, preferences=[], now=DURING)
    with refused("preference_day"):
        ballots.change_entry(
            entry=entry, preferences=[(MONDAY - timedelta(days=1), None)], now=DURING
        )
    with refused("entry_not_changeable"):
        ballots.change_entry(entry=entry, preferences=[(MONDAY, None)], now=CLOSES)
    ballots.withdraw_entry(entry=entry, now=DURING)
    with refused("entry_not_changeable"):
        ballots.change_entry(entry=entry, preferences=[(MONDAY, None)], now=DURING)
    assert Entry.objects.get(pk=entry.pk).preferences == entry.preferences
