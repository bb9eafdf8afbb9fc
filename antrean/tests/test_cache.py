"""The two-level cache: each process's memory first, the shared cache behind it."""

import pytest
from django.core.cache import caches

from antrean import cache as two_level
from antrean.cache import TwoLevelCache


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    found = Clock()
    monkeypatch.setattr(two_level, "_now", found)
    return found


@pytest.fixture
def shared_reads(monkeypatch):
    """The round trips to the shared cache (on Redis in production), counted."""
    shared = caches["default"]
    reads = []
    real_get = shared.get

    def get(key, *args, **kwargs):
        reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(shared, "get", get)
    return reads


def process(name):
    """The kept cache as one web process sees it: its own memory, the shared cache behind."""
    kept = TwoLevelCache(name, {"KEY_PREFIX": "kept", "OPTIONS": {"SHARED": "default"}})
    kept.clear()
    return kept


def test_a_value_one_process_keeps_is_read_by_another(clock):
    web_a, web_b = process("a"), process("b")
    web_a.set("office-window:palembang:7", ("office", "window"), 2)
    assert web_b.get("office-window:palembang:7") == ("office", "window")
    assert caches["default"].get("kept:1:office-window:palembang:7") is not None


def test_once_read_a_value_is_answered_from_memory(clock, shared_reads):
    web_a, web_b = process("a"), process("b")
    web_a.set("availability:3", "places", 2)
    assert [web_b.get("availability:3") for _ in range(5)] == ["places"] * 5
    assert len(shared_reads) == 1
    assert web_a.get("availability:3") == "places"  # the writer kept its own copy
    assert len(shared_reads) == 1


def test_a_copy_expires_when_the_value_does_wherever_it_was_read(clock, shared_reads):
    web_a, web_b = process("a"), process("b")
    web_a.set("availability:3", "places", 2)
    clock.now += 1.5
    assert web_b.get("availability:3") == "places"
    clock.now += 0.6  # 2.1 s after it was written: gone for both, not 2 s after B's read
    assert web_a.get("availability:3") is None
    assert web_b.get("availability:3", "gone") == "gone"


def test_a_key_not_kept_is_believed_absent_for_a_moment(clock, shared_reads):
    web_a, web_b = process("a"), process("b")
    assert web_b.get("no-place:7:2026-12-07") is None
    web_a.set("no-place:7:2026-12-07", "full", 2)
    assert web_b.get("no-place:7:2026-12-07") is None  # what B asked a moment ago
    assert len(shared_reads) == 1
    clock.now += 0.5
    assert web_b.get("no-place:7:2026-12-07") == "full"
    assert len(shared_reads) == 2


def test_a_process_that_keeps_a_value_sees_it_at_once(clock):
    web = process("a")
    assert web.get("no-place:7:2026-12-07") is None
    web.set("no-place:7:2026-12-07", "full", 2)
    assert web.get("no-place:7:2026-12-07") == "full"


def test_without_a_timeout_a_value_is_kept_until_forgotten(clock):
    web_a, web_b = process("a"), process("b")
    web_a.set_many({"plan:1": "a", "plan:2": "b"}, None)
    clock.now += 10 * 365 * 86400
    assert web_b.get_many(["plan:1", "plan:2"]) == {"plan:1": "a", "plan:2": "b"}
    web_a.delete("plan:1")
    assert web_a.get("plan:1") is None
    assert web_b.get("plan:2") == "b"


def test_a_timeout_of_zero_forgets_the_value(clock):
    web = process("a")
    web.set("availability:3", "places", 2)
    web.set("availability:3", "newer", 0)
    assert web.get("availability:3") is None
    assert caches["default"].get("kept:1:availability:3") is None


def test_what_must_hold_between_processes_is_refused():
    web = process("a")
    with pytest.raises(NotImplementedError, match="shared cache"):
        web.add("lock", 1)
    with pytest.raises(NotImplementedError, match="shared cache"):
        web.incr("count")


def test_clear_forgets_both_levels(clock):
    web_a, web_b = process("a"), process("b")
    web_a.set("availability:3", "places", 2)
    assert web_b.get("availability:3") == "places"
    web_b.clear()
    assert web_b.get("availability:3") is None
    assert caches["default"].get("kept:1:availability:3") is None
