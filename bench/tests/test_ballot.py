"""The draw's and the entry rush's pure parts: the entries made, the week, the checks."""

import random
from datetime import date, timedelta

import pytest

from bench.ballot_draw import (
    SIZES,
    draw_check,
    entries_per_office,
    entry_shape,
    nik,
    quantile,
    release_week,
)
from bench.entry_rush import entry_check
from bookings.nik import parse_nik

DAYS = [[f"2027-01-{11 + d}", [3 * d + 1, 3 * d + 2, 3 * d + 3]] for d in range(5)]


def test_niks_are_those_of_common_lua_and_valid():
    assert nik("167101", 0) == ("1671010101600001", date(1960, 1, 1))
    assert nik("167101", 9999) == ("1671010201600001", date(1960, 1, 2))
    made = [nik("357801", n) for n in range(0, 3_000_000, 997)]
    assert len({number for number, _birth in made}) == len(made)
    for number, birth in made[:500]:
        assert parse_nik(number).matches_birth_date(birth)


def test_the_release_week_is_a_whole_open_week_two_weeks_ahead():
    tuesday = date(2026, 12, 1)

    monday, friday = release_week(tuesday)

    assert (monday, friday) == (date(2026, 12, 21), date(2026, 12, 25))
    assert monday.weekday() == 0 and monday - tuesday >= timedelta(days=14)
    christmas = release_week(tuesday, closed=lambda day: day == date(2026, 12, 25))
    assert christmas == (date(2026, 12, 28), date(2027, 1, 1))


def test_entries_are_shared_evenly_between_offices():
    shares = entries_per_office(100_000, 125)
    assert sum(shares) == 100_000 and set(shares) == {800}
    assert entries_per_office(10, 4) == [3, 3, 2, 2]


def test_an_entry_has_1_to_5_applicants_and_1_to_3_distinct_choices_of_its_days():
    rng = random.Random(1)
    shapes = [entry_shape(rng, DAYS) for _ in range(5000)]

    windows = {day: set(ids) | {None} for day, ids in DAYS}
    for size, preferences in shapes:
        assert size in SIZES
        assert 1 <= len(preferences) <= 3
        assert len({tuple(p) for p in preferences}) == len(preferences)
        assert all(window in windows[day] for day, window in preferences)
    singles = sum(size == 1 for size, _p in shapes) / len(shapes)
    assert 0.65 < singles < 0.75
    assert any(window is None for _s, prefs in shapes for _d, window in prefs)


def test_the_entries_are_the_same_on_every_run():
    first = [entry_shape(random.Random(15), DAYS) for _ in range(3)]
    again = [entry_shape(random.Random(15), DAYS) for _ in range(3)]
    assert first == again


def test_quantile_nearest_rank():
    assert quantile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert quantile([3.0, 1.0, 2.0, 4.0], 0.9) == 4.0
    assert quantile([], 0.9) == 0


def drawn(**changes):
    """What `bench.steps draw` reports of a clean draw (three offices)."""
    return {
        "releases": 3,
        "releases_drawn": 3,
        "entries_undecided": 0,
        "bookings": 2025,
        "applicants_won": 2025,
        "entries_won": 1314,
        "notifications": 2628,
        "days_over_quota": 0,
        "windows_over_capacity": 0,
        "counters_disagree": 0,
        "groups_split": 0,
        **changes,
    }


def test_a_clean_draw_passes_its_check():
    check = draw_check(drawn(), {"bookings": 2025, "notifications": 2628})
    assert check["ok"]
    assert check["notifications_expected"] == 2 * 1314


@pytest.mark.parametrize(
    ("changes", "floor"),
    [
        ({"windows_over_capacity": 1}, {}),
        ({"groups_split": 1}, {}),
        ({"entries_undecided": 4}, {}),
        ({"releases_drawn": 2}, {}),
        ({"bookings": 2024}, {}),  # a winner without its booking
        ({"notifications": 2627}, {}),
        ({"counters_disagree": 1}, {}),
        ({}, {"bookings": 2000}),  # the floor wrote other rows than the draw
    ],
)
def test_a_draw_that_wrote_wrong_fails_its_check(changes, floor):
    assert not draw_check(drawn(**changes), floor)["ok"]


def test_the_entry_rush_allows_entries_in_flight_but_no_5xx():
    assert entry_check({"201": 3000}, 3040, concurrency=100)["ok"]
    assert entry_check({"201": 2990, "409 entered_already": 10}, 2990, 100)["refused_4xx"] == 10
    assert not entry_check({"201": 3000}, 2999, 100)["ok"]  # a 201 not in the database
    assert not entry_check({"201": 3000}, 3101, 100)["ok"]
    assert not entry_check({"201": 2999, "502": 1}, 2999, 100)["ok"]
