"""A small background thread pool shared by every feature that has slow work.

The work itself is a database row (a queued webmention, a pending ping, a
message of the mail outbox) or a rule over the rows (the retention purge); the
pool of each worker process only does it sooner. Whatever it misses (a
restart, the pool turned off) a command run from cron does: ``flask
process-mentions``, ``flask send-mail``, ``flask purge-expired``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, after_this_request, current_app, has_request_context

from ..extensions import db

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_futures: set[Future] = set()


def worker_mode(app: Flask) -> str:
    """``thread`` or ``off`` (the default under TESTING)."""
    # MENTIONS_WORKER is the older name of the same switch.
    mode = app.config.get("BACKGROUND_WORKER") or app.config.get("MENTIONS_WORKER")
    if not mode:
        return "off" if app.testing else "thread"
    return str(mode)


def _pool() -> ThreadPoolExecutor:
    global _executor, _executor_pid
    with _lock:
        # A pool inherited through fork() has no threads: make a new one.
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(2, thread_name_prefix="blog-jobs")
            _executor_pid = os.getpid()
        return _executor


def _run(app: Flask, job: Callable[..., object], args: tuple) -> None:
    with app.app_context():
        try:
            job(*args)
        except Exception:
            db.session.rollback()
            app.logger.exception("background job %s failed", job.__name__)


def submit(job: Callable[..., object], *args: object) -> None:
    """Run ``job(*args)`` in the pool inside an app context (after the current
    request, so its commit is done); nothing when the worker is off."""
    app = current_app._get_current_object()
    if worker_mode(app) != "thread":
        return

    if has_request_context():

        @after_this_request
        def start_after(response):
            _start(app, job, args)
            return response

    else:
        _start(app, job, args)


def submit_later(seconds: float, job: Callable[..., object], *args: object) -> None:
    """Run ``job(*args)`` in the pool ``seconds`` from now; nothing when the
    worker is off. A restart forgets it: the cron command does the work then."""
    app = current_app._get_current_object()
    if worker_mode(app) != "thread":
        return
    # A timer thread of its own waits, so that no pool thread sleeps.
    timer = threading.Timer(max(seconds, 0), _start, (app, job, args))
    timer.daemon = True
    timer.start()


def _start(app: Flask, job: Callable[..., object], args: tuple) -> None:
    future = _pool().submit(_run, app, job, args)
    with _lock:
        _futures.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _lock:
        _futures.discard(future)


def wait_idle(timeout: float = 30) -> bool:
    """Wait for the submitted jobs of this process, and for the jobs those
    submit in turn (a mention held for moderation queues its mail); False if
    some still run after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with _lock:
            running = {future for future in _futures if not future.done()}
        if not running:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        wait(running, timeout=remaining)
