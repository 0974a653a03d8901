"""Under gunicorn with the shipped gunicorn.conf.py (threaded workers), a refused
POST is answered after its pause, a reader arriving meanwhile is answered
without waiting for it, and a worker with one thread never pauses."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers_servers import served_blog

HOLD_SECONDS = 3


def post_sign_in(port: int, timeout: float = 30) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/login",
        data=b"username=x&password=y",
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def logged_refusal_durations(log: Path, deadline: float) -> list[int]:
    """The refused sign-ins' durations (µs) in gunicorn's access log, once there:
    a threaded worker writes the line after the answer has left."""
    refusal = r'"POST /admin/login HTTP/1.1" 429 \S+ .* (\d+)us$'
    while True:
        durations = re.findall(refusal, log.read_text(), re.MULTILINE)
        if durations or time.monotonic() > deadline:
            return [int(duration) for duration in durations]
        time.sleep(0.05)


def test_a_refused_post_is_held_while_a_reader_is_served(tmp_path):
    with served_blog(
        f"sqlite:///{tmp_path / 'blog.sqlite3'}",
        tmp_path,
        BLOG_POST_LIMIT_PER_ADDRESS="1 per hour",
        BLOG_REFUSAL_HOLD_SECONDS=str(HOLD_SECONDS),
        # One worker: the reader can only be answered by a thread beside the
        # held one, never by another process.
        GUNICORN_WORKERS="1",
    ) as (port, _process):
        assert post_sign_in(port) != 429  # the address's one POST this hour
        refused: list[int] = []
        held = threading.Thread(target=lambda: refused.append(post_sign_in(port)))
        held.start()
        time.sleep(0.5)  # the refused POST reaches its pause (3 s) meanwhile
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=HOLD_SECONDS
        ) as reader:
            assert reader.status == 200
        assert held.is_alive(), "the refusal was answered before the reader"
        held.join(timeout=30)
        assert refused == [429]
        durations = logged_refusal_durations(
            tmp_path / "access.log", time.monotonic() + 10
        )
    assert len(durations) == 1
    assert durations[0] >= HOLD_SECONDS * 1_000_000


def test_a_worker_with_one_thread_answers_refusals_at_once(tmp_path):
    # --threads on the command line wins over gunicorn.conf.py, and the pauses
    # follow it: a worker with one thread never pauses (none of its threads
    # would be left for readers).
    with served_blog(
        f"sqlite:///{tmp_path / 'blog.sqlite3'}",
        tmp_path,
        BLOG_POST_LIMIT_PER_ADDRESS="1 per hour",
        BLOG_REFUSAL_HOLD_SECONDS="60",
        GUNICORN_WORKERS="1",
        GUNICORN_CMD_ARGS="--worker-class gthread --threads 1",
    ) as (port, _process):
        assert post_sign_in(port) != 429
        # Paused, this answer would take a minute: the client gives up first.
        assert post_sign_in(port, timeout=20) == 429
