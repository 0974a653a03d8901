"""Refused POSTs answered after a pause, in a few threads of a threaded worker.

The POST guard (``postguard``) holds its own refusals and the views' (429 and
503) here; gunicorn.conf.py fits the number of threads that may pause to the
worker's own thread count (``fit_refusal_holds``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Threads of a process that may pause at once when the server's thread count
# is unknown (waitress's default is 4); fit_refusal_holds knows it.
DEFAULT_REFUSAL_HOLDS = 2


def fit_refusal_holds(app: object, threads: int) -> None:
    """Let three in four of a worker's ``threads`` pause refusals, unless
    REFUSAL_HOLDS is configured; never all of them. For gunicorn.conf.py, once
    the worker's own thread count is known (``--threads`` wins over the file);
    an app that is not the blog (the benchmarks' static page) is left alone."""
    guard = getattr(app, "extensions", {}).get("post_guard")
    if guard is None:
        return
    configured = guard.app.config.get("REFUSAL_HOLDS")
    at_once = threads * 3 // 4 if configured is None else int(configured)
    guard.held.fit(min(at_once, threads - 1))


class HeldRefusals:
    """Refused POSTs answered after a pause, by threaded workers.

    A client that sends again as soon as it is answered (a script's loop) gets
    turns in proportion to its connections, however cheap each refusal is:
    sixteen such connections against a reader's four leave the reader a fifth
    of the workers. Held for ``seconds`` in a thread that sleeps, each of them
    sends one request a second and costs no CPU meanwhile. Only where a pause
    takes no worker from readers: in a threaded worker (a sync worker held is
    a worker lost), and in at most ``at_once`` threads of each process, so the
    others stay free; past that bound a refusal is answered at once.
    """

    def __init__(self, seconds: float, at_once: int) -> None:
        self.seconds = seconds
        self.pause: Callable[[float], None] = time.sleep
        self.fit(at_once)

    def fit(self, at_once: int) -> None:
        """Pause in at most ``at_once`` threads (none when 0). Before serving."""
        self.at_once = max(at_once, 0)
        self._taken = threading.BoundedSemaphore(max(self.at_once, 1))

    def hold(self, environ: dict) -> None:
        """Pause this request's thread before its refusal is answered."""
        if self.seconds <= 0 or self.at_once <= 0:
            return
        if not environ.get("wsgi.multithread"):
            return
        if not self._taken.acquire(blocking=False):
            return
        try:
            self.pause(self.seconds)
        finally:
            self._taken.release()
