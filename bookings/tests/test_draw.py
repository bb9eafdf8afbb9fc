"""The ballot's draw: deterministic, fair over seeds, never splitting a group; checked by anyone."""

import json
import secrets
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings import draw

DAY, NEXT_DAY = "2026-12-14", "2026-12-15"


def entry(size=1, *preferences, withdrawn=False):
    return {"size": size, "preferences": [list(p) for p in preferences], "withdrawn": withdrawn}


def places(days, windows):
    return {"days": days, "windows": windows}


def receipts(count):
    return [draw.receipt_of(secrets.token_hex(16), {"n": n}) for n in range(count)]


# The order.


def test_the_order_depends_on_the_seed_and_the_public_value_only():
    listed = receipts(50)
    order = draw.draw_order("seed-1", "public 4821", listed)

    assert draw.draw_order("seed-1", "public 4821", list(reversed(listed))) == order
    assert sorted(order) == sorted(listed)
    assert draw.draw_order("seed-2", "public 4821", listed) != order
    assert draw.draw_order("seed-1", "public 4822", listed) != order


def test_a_receipt_hides_the_details_behind_the_salt():
    details = {"nik": "1671015705900001", "preferences": [[DAY, 7]]}
    assert draw.receipt_of("salt-a", details) == draw.receipt_of("salt-a", dict(details))
    assert draw.receipt_of("salt-a", details) != draw.receipt_of("salt-b", details)
    assert details["nik"] not in draw.receipt_of("salt-a", details)


# The allocation.


def test_each_entry_takes_its_first_preference_with_room_else_the_next():
    entries = {
        "a": entry(1, (DAY, 7), (DAY, 8)),
        "b": entry(1, (DAY, 7), (DAY, 8)),
        "c": entry(1, (DAY, 7), (DAY, 8), (NEXT_DAY, 9)),
    }
    room = places({DAY: 10, NEXT_DAY: 10}, {DAY: [[7, 1], [8, 1]], NEXT_DAY: [[9, 5]]})

    outcome = draw.allocate(["b", "a", "c"], entries, room)

    assert outcome == {
        "b": {"result": "won", "preference": 1, "day": DAY, "window": 7},
        "a": {"result": "won", "preference": 2, "day": DAY, "window": 8},
        "c": {"result": "won", "preference": 3, "day": NEXT_DAY, "window": 9},
    }


def test_a_group_that_fits_nowhere_is_skipped_whole_and_later_entries_use_the_places():
    entries = {
        "family": entry(4, (DAY, 7)),
        "pair": entry(2, (DAY, 7)),
        "one": entry(1, (DAY, 7)),
        "late": entry(1, (DAY, 7)),
    }
    room = places({DAY: 10}, {DAY: [[7, 3]]})

    outcome = draw.allocate(["family", "pair", "one", "late"], entries, room)

    assert outcome["family"] == {"result": "waiting", "position": 1}
    assert outcome["pair"]["result"] == outcome["one"]["result"] == "won"
    assert outcome["late"] == {"result": "waiting", "position": 2}


def test_any_session_of_a_day_takes_the_first_with_room_for_everyone():
    entries = {"first": entry(2, (DAY, 7)), "any": entry(3, (DAY, draw.ANY_WINDOW))}
    room = places({DAY: 10}, {DAY: [[7, 4], [8, 2], [9, 3]]})

    outcome = draw.allocate(["first", "any"], entries, room)

    assert outcome["any"] == {"result": "won", "preference": 1, "day": DAY, "window": 9}


def test_the_days_quota_holds_whatever_its_sessions_have():
    entries = {"a": entry(2, (DAY, 7)), "b": entry(2, (DAY, 8))}
    room = places({DAY: 3}, {DAY: [[7, 45], [8, 45]]})

    outcome = draw.allocate(["a", "b"], entries, room)

    assert outcome["b"] == {"result": "waiting", "position": 1}


def test_a_withdrawn_entry_stays_in_the_order_and_takes_nothing():
    entries = {"gone": entry(1, (DAY, 7), withdrawn=True), "next": entry(1, (DAY, 7))}
    room = places({DAY: 1}, {DAY: [[7, 1]]})

    outcome = draw.allocate(["gone", "next"], entries, room)

    assert outcome == {
        "gone": {"result": "withdrawn"},
        "next": {"result": "won", "preference": 1, "day": DAY, "window": 7},
    }


preference = st.tuples(st.sampled_from([DAY, NEXT_DAY]), st.sampled_from([7, 8, None]))


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=40),
    wishes=st.lists(st.lists(preference, min_size=1, max_size=3), min_size=40, max_size=40),
    free=st.tuples(*[st.integers(0, 12)] * 6),
    seed=st.text(min_size=1, max_size=20),
)
def test_no_place_is_given_twice_and_no_group_is_split(sizes, wishes, free, seed):
    entries = {f"r{n}": entry(size, *wishes[n]) for n, size in enumerate(sizes)}
    room = places(
        {DAY: free[0], NEXT_DAY: free[1]},
        {DAY: [[7, free[2]], [8, free[3]]], NEXT_DAY: [[7, free[4]], [8, free[5]]]},
    )
    order = draw.draw_order(seed, "public", list(entries))

    outcome = draw.allocate(order, entries, room)

    assert outcome == draw.allocate(order, entries, room)  # deterministic
    taken_day, taken_window = Counter(), Counter()
    for receipt, result in outcome.items():
        if result["result"] == "won":
            wish = entries[receipt]["preferences"][result["preference"] - 1]
            assert wish[0] == result["day"] and wish[1] in (None, result["window"])
            taken_day[result["day"]] += entries[receipt]["size"]  # all its members, or none
            taken_window[(result["day"], result["window"])] += entries[receipt]["size"]
    assert all(taken_day[day] <= room["days"][day] for day in taken_day)
    windows = {(d, w): n for d, listed in room["windows"].items() for w, n in listed}
    assert all(taken_window[key] <= windows[key] for key in taken_window)
    positions = [r["position"] for r in outcome.values() if r["result"] == "waiting"]
    assert sorted(positions) == list(range(1, len(positions) + 1))


def test_over_many_seeds_every_entry_has_the_same_chance_of_its_first_preference():
    # 20 entries want one session of 5 places: each should win a quarter of the draws.
    # Pearson's chi-square over 4,000 seeds against the uniform expectation, 19 degrees of
    # freedom: above 43.82 has a chance of 0.001 if the draw is fair.
    listed = receipts(20)
    entries = {receipt: entry(1, (DAY, 7)) for receipt in listed}
    room = places({DAY: 5}, {DAY: [[7, 5]]})
    seeds = 4000
    wins = Counter()
    for n in range(seeds):
        order = draw.draw_order(f"seed-{n}", "public", listed)
        outcome = draw.allocate(order, entries, room)
        wins.update(r for r, result in outcome.items() if result["result"] == "won")

    expected = seeds * 5 / 20
    chi_square = sum((wins[receipt] - expected) ** 2 / expected for receipt in listed)
    assert chi_square < 43.82, (chi_square, wins)


def test_entering_early_is_no_advantage():
    # The receipts as they were entered, one after another: the first tenth of them wins
    # about a tenth of the places over many seeds, not more.
    listed = receipts(100)
    entries = {receipt: entry(1, (DAY, 7)) for receipt in listed}
    room = places({DAY: 10}, {DAY: [[7, 10]]})
    early = set(listed[:10])
    won_early = 0
    for n in range(1000):
        outcome = draw.allocate(draw.draw_order(f"s{n}", "v", listed), entries, room)
        won_early += sum(outcome[r]["result"] == "won" for r in early)
    # 10,000 places given; the early tenth's share is binomial(10,000, 0.1): 1,000 ± 30.
    assert 880 < won_early < 1120


# The published JSON and the script that checks it.


def published_release():
    seed = secrets.token_hex(32)
    entries = [
        {"receipt": r, **entry(size, (DAY, 7), (DAY, draw.ANY_WINDOW))}
        for r, size in zip(receipts(12), [1, 2, 3, 1, 4, 1, 2, 1, 5, 1, 1, 2], strict=True)
    ]
    entries[3]["withdrawn"] = True
    release = {
        "seed_hash": draw.sha256_hex(seed),
        "entries": entries,
        "entries_hash": draw.entries_hash(entries),
        "seed": seed,
        "public_value": "IDX close 2026-12-11: 7310.52",
        "places": places({DAY: 12}, {DAY: [[7, 5], [8, 6]]}),
    }
    release["outcome"] = draw.recompute(release)
    return release


def run_script(script, path):
    # -I: isolated, no site-packages and no project on the path: the standard library only.
    return subprocess.run(
        [sys.executable, "-I", str(script), str(path)], capture_output=True, text=True, check=False
    )


def test_the_script_alone_says_a_published_draw_matches(tmp_path):
    script = shutil.copy(Path(draw.__file__), tmp_path / "draw.py")  # downloaded on its own
    release = tmp_path / "release.json"
    release.write_text(json.dumps(published_release()), encoding="utf-8")

    result = run_script(script, release)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("matches")


def test_the_script_says_it_does_not_match_once_a_receipt_is_changed(tmp_path):
    published = published_release()
    published["entries"][5]["receipt"] = draw.sha256_hex("someone else")
    release = tmp_path / "release.json"
    release.write_text(json.dumps(published), encoding="utf-8")

    result = run_script(Path(draw.__file__), release)

    assert result.returncode == 1
    assert "entry list" in result.stdout


def test_the_check_names_each_thing_that_does_not_hold():
    published = published_release()
    assert draw.check(published) == []

    swapped = {**published, "seed": "another seed"}
    assert draw.check(swapped)[0].startswith("the seed does not have the hash")

    winners = [r for r, o in published["outcome"].items() if o["result"] == "won"]
    moved = json.loads(json.dumps(published))
    moved["outcome"][winners[0]] = {"result": "waiting", "position": 99}
    assert draw.check(moved) == ["the outcome differs from the one the seed and the list give"]
