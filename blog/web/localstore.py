"""Rate-limit counters in the worker's own memory, with no timer thread.

The ``limits`` package's ``memory://`` storage starts a ``threading.Timer`` on
the first hit after each idle 10 ms and then sweeps every key: under a flood
that is a new thread per request and a sweep of every address counted, both
paid by the request (about 2 ms of a 10 ms comment POST here). ``local://``
keeps the same fixed-window counters in a dict and expires them lazily: a key
past its window reads as zero, and at most once a minute one request drops the
expired keys, so memory stays bounded by the addresses seen in one window.
The sweep goes SWEEP_BATCH keys a hit: at 100,000 addresses a whole sweep in
one request held the lock, and the worker's interpreter, for 73 ms.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SWEEP_EVERY = 60.0  # seconds between two sweeps of expired keys
SWEEP_BATCH = 1000  # keys a hit looks at while a sweep is under way


def _wall_clock() -> float:
    return time.time()


class LocalStorage(Storage):
    """Fixed-window counters of this process (``local://``)."""

    STORAGE_SCHEME = ["local"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_):
        self._counters: dict[str, list[float]] = {}  # key -> [count, expires at]
        self._lock = threading.Lock()
        self.clock = _wall_clock  # tests move it
        self._next_sweep = 0.0  # the first hit sets it
        self._to_sweep: list[str] = []  # keys the sweep under way has yet to see
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception]:
        """The errors of this storage that the limiter may wrap."""
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s count; a new window lasts ``expiry`` s."""
        now = self.clock()
        with self._lock:
            self._sweep_if_due(now)
            counter = self._counters.get(key)
            if counter is None or counter[1] <= now:
                counter = self._counters[key] = [0, now + expiry]
            counter[0] += amount
            return int(counter[0])

    def decr(self, key: str, amount: int = 1) -> int:
        """Take ``amount`` off ``key``'s count, never below zero."""
        with self._lock:
            counter = self._live(key, self.clock())
            if counter is None:
                return 0
            counter[0] = max(0, counter[0] - amount)
            return int(counter[0])

    def get(self, key: str) -> int:
        """The count of ``key`` in its current window (0 when none)."""
        counter = self._live(key, self.clock())
        return int(counter[0]) if counter else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (now when it has none)."""
        now = self.clock()
        counter = self._live(key, now)
        return counter[1] if counter else now

    def check(self) -> bool:
        """Always healthy: nothing outside this process."""
        return True

    def reset(self) -> int:
        """Forget every count; how many keys there were."""
        with self._lock:
            count = len(self._counters)
            self._counters.clear()
            self._to_sweep.clear()
            return count

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""
        with self._lock:
            self._counters.pop(key, None)

    def _live(self, key: str, now: float) -> list[float] | None:
        counter = self._counters.get(key)
        return counter if counter is not None and counter[1] > now else None

    def _sweep_if_due(self, now: float) -> None:
        if not self._to_sweep:
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_EVERY
            self._to_sweep = list(self._counters)
        for _ in range(min(SWEEP_BATCH, len(self._to_sweep))):
            key = self._to_sweep.pop()
            counter = self._counters.get(key)
            if counter is not None and counter[1] <= now:
                del self._counters[key]
