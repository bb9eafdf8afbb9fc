"""Each process's memory in front of the shared cache, for answers a crowd reads over and over."""

import math
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache

_now = time.time


class TwoLevelCache(BaseCache):
    """A cache read from this process's memory first and from the shared cache behind it.

    A value is written to both, with the moment it expires: a copy taken from the shared
    cache is kept here only until then, so no process serves it longer than it was kept
    for. A key the shared cache does not hold is believed absent here for
    OPTIONS["MISS_SECONDS"], so a value another process writes reaches this one that much
    later at most, and a crowd asking meanwhile costs no round trip. For answers that may
    be a few seconds old and decide nothing; counts and locks belong in the shared cache.

    OPTIONS: SHARED, the alias of the shared cache ("default"); MISS_SECONDS (0.5);
    MAX_ENTRIES kept in this process (10,000).
    """

    def __init__(self, location, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._shared_alias = options.get("SHARED", "default")
        self._miss_seconds = options.get("MISS_SECONDS", 0.5)
        self._local = LocMemCache(
            f"two-level:{location}",
            {"OPTIONS": {"MAX_ENTRIES": options.get("MAX_ENTRIES", 10_000)}},
        )

    @property
    def _shared(self):
        return caches[self._shared_alias]

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        now = _now()
        kept = self._local.get(key)
        if kept is None or kept[0] <= now:
            kept = self._shared.get(key)
            if kept is None or kept[0] <= now:  # not there, or expired by the writer's clock
                kept = (now + self._miss_seconds, None)
            self._local.set(key, kept, None if kept[0] == math.inf else kept[0] - now)
        return default if kept[1] is None else kept[1]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self.set_many({key: value}, timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        seconds = self.default_timeout if timeout is DEFAULT_TIMEOUT else timeout
        if seconds is not None and seconds <= 0:
            self.delete_many(data, version=version)
            return []
        expires = math.inf if seconds is None else _now() + seconds
        kept = {
            self.make_and_validate_key(key, version=version): (expires, value)
            for key, value in data.items()
        }
        self._local.set_many(kept, seconds)
        self._shared.set_many(kept, seconds)
        return []

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        raise NotImplementedError("add() decides between processes: ask the shared cache")

    def incr(self, key, delta=1, version=None):
        raise NotImplementedError("a count must be kept in the shared cache itself")

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        raise NotImplementedError("other processes keep their copy until it expires")

    def delete(self, key, version=None):
        """Forget key here and in the shared cache (other processes keep their copy until
        it expires)."""
        key = self.make_and_validate_key(key, version=version)
        self._local.delete(key)
        return self._shared.delete(key)

    def delete_many(self, keys, version=None):
        for key in keys:
            self.delete(key, version=version)

    def clear(self):
        """Forget everything here and in the shared cache."""
        self._local.clear()
        self._shared.clear()
