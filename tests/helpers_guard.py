"""A guard for tests of work that must stay linear in its input."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Hung(BaseException):
    """Raised by ``hang_guard``: a BaseException, so that no ``except Exception``
    in the code under test can take it for one of its own errors."""


@contextmanager
def hang_guard(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: the quadratic cleaner took 17 s on 64 KB."""

    def expire(signum, frame):
        raise Hung(f"the work took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
