"""Background work for mentions: jobs are database rows, run by a small thread pool.

A queued ``WebmentionRequest`` or a pending ``OutboundPing`` is the job; the
pool of each worker process only speeds things up. Whatever it misses (a
restart, ``MENTIONS_WORKER = "off"``) ``flask process-mentions`` drains.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta

from flask import Flask, after_this_request, current_app, has_request_context
from sqlalchemy import update

from ..extensions import db
from ..models import OutboundPing, WebmentionRequest, utcnow
from .send import posts_with_pending_pings, send_pending
from .webmention import process_webmention, queued_requests

# A job claimed this long ago and not finished belongs to a worker that died.
STALE_AFTER = timedelta(minutes=10)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_futures: set[Future] = set()


def worker_mode(app: Flask) -> str:
    """``thread`` or ``off`` (the default under TESTING)."""
    mode = app.config.get("MENTIONS_WORKER")
    if not mode:
        return "off" if app.testing else "thread"
    return str(mode)


def _pool() -> ThreadPoolExecutor:
    global _executor, _executor_pid
    with _lock:
        # A pool inherited through fork() has no threads: make a new one.
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(2, thread_name_prefix="mentions")
            _executor_pid = os.getpid()
        return _executor


def _run(app: Flask, job: Callable[..., object], args: tuple) -> None:
    with app.app_context():
        try:
            job(*args)
        except Exception:
            db.session.rollback()
            app.logger.exception("mentions job %s failed", job.__name__)


def submit(job: Callable[..., object], *args: object) -> None:
    """Run ``job(*args)`` in the pool inside an app context (after the current
    request, so its commit is done); nothing when the worker is off."""
    app = current_app._get_current_object()
    if worker_mode(app) != "thread":
        return

    def start() -> None:
        future = _pool().submit(_run, app, job, args)
        with _lock:
            _futures.add(future)
        future.add_done_callback(_forget)

    if has_request_context():

        @after_this_request
        def start_after(response):
            start()
            return response

    else:
        start()


def _forget(future: Future) -> None:
    with _lock:
        _futures.discard(future)


def wait_idle(timeout: float = 30) -> bool:
    """Wait for the submitted jobs of this process; False if some still run."""
    with _lock:
        running = set(_futures)
    done, not_done = wait(running, timeout=timeout)
    return not not_done


def drain() -> int:
    """Run every queued job now, in this thread; how many were run."""
    # Claimed long ago and never finished: the worker died; queue them again.
    since = utcnow() - STALE_AFTER
    for model, claimed, waiting, claimed_at in (
        (WebmentionRequest, "processing", "queued", WebmentionRequest.updated_at),
        (OutboundPing, "sending", "pending", OutboundPing.attempted_at),
    ):
        db.session.execute(
            update(model)
            .where(model.status == claimed, claimed_at < since)
            .values(status=waiting)
        )
    db.session.commit()
    count = 0
    for request_id in queued_requests():
        count += process_webmention(request_id) is not None
    for post_id in posts_with_pending_pings():
        count += send_pending(post_id)
    return count
