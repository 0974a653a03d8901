"""The default rate-limit storage, ``local://``: fixed windows in the worker's
memory, expired as they are read, with no thread of its own."""

from __future__ import annotations

import threading

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from blog.extensions import limiter
from blog.web.localstore import SWEEP_BATCH, SWEEP_EVERY, LocalStorage

pytestmark = pytest.mark.backends("sqlite")

THREE_A_MINUTE = parse("3 per minute")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock) -> LocalStorage:
    store = storage_from_string("local://")
    store.clock = clock
    return store


def test_the_app_counts_in_local_storage_by_default(app):
    with app.app_context():
        assert isinstance(limiter.limiter.storage, LocalStorage)


def test_a_window_refuses_past_its_budget_and_frees_when_it_ends(store, clock):
    limits = FixedWindowRateLimiter(store)
    assert [limits.hit(THREE_A_MINUTE, "10.0.0.1") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert limits.hit(THREE_A_MINUTE, "10.0.0.2")  # another address, its own count
    clock.now += 59
    assert not limits.hit(THREE_A_MINUTE, "10.0.0.1")
    clock.now += 1
    assert limits.hit(THREE_A_MINUTE, "10.0.0.1")


def test_counts_expiry_decrement_and_clear(store, clock):
    assert store.incr("k", 60) == 1
    assert store.incr("k", 60, amount=2) == 3
    assert store.get_expiry("k") == clock.now + 60
    assert store.decr("k", 5) == 0
    assert store.incr("k", 60) == 1
    store.clear("k")
    assert store.get("k") == 0
    assert store.decr("missing") == 0
    assert store.check()


def test_expired_keys_are_dropped_so_memory_follows_one_window(store, clock):
    for number in range(500):
        store.incr(f"address-{number}", 60)
    clock.now += SWEEP_EVERY + 1
    store.incr("one-more", 60)  # the first hit after the sweep time sweeps
    assert store.reset() == 1


def test_a_sweep_of_many_keys_is_spread_over_hits(store, clock):
    # At 100,000 addresses one sweep held the lock (and the interpreter) for
    # 73 ms of one request: each hit now looks at SWEEP_BATCH keys at most.
    for number in range(2 * SWEEP_BATCH + 10):
        store.incr(f"address-{number}", 60)
    clock.now += SWEEP_EVERY + 1
    store.incr("live", 60)
    assert store.reset() > SWEEP_BATCH  # one hit swept one batch
    for number in range(2 * SWEEP_BATCH + 10):
        store.incr(f"address-{number}", 60)
    clock.now += SWEEP_EVERY + 1
    for _ in range(3):
        store.incr("live", 60)
    assert store.reset() == 1  # three hits swept all of them


def test_a_hit_starts_no_thread(store):
    limits = FixedWindowRateLimiter(store)
    before = threading.active_count()
    for number in range(50):
        limits.hit(THREE_A_MINUTE, f"10.0.1.{number}")
        assert threading.active_count() == before
