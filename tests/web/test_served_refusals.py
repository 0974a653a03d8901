"""Under gunicorn with the shipped gunicorn.conf.py (threaded workers), a refused
POST is answered after its pause, and a reader arriving meanwhile is answered
without waiting for it."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request

from helpers_servers import served_blog

HOLD_SECONDS = 1.0  # the default REFUSAL_HOLD_SECONDS


def post_sign_in(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/login",
        data=b"username=x&password=y",
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_refused_post_is_held_while_a_reader_is_served(tmp_path):
    with served_blog(
        f"sqlite:///{tmp_path / 'blog.sqlite3'}",
        tmp_path,
        BLOG_POST_LIMIT_PER_ADDRESS="1 per hour",
        # One worker: the reader can only be answered by a thread beside the
        # held one, never by another process.
        GUNICORN_WORKERS="1",
    ) as (port, _process):
        assert post_sign_in(port) != 429  # the address's one POST this hour
        refused: list[int] = []
        held = threading.Thread(target=lambda: refused.append(post_sign_in(port)))
        held.start()
        time.sleep(0.2)  # let the refused POST reach its pause
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as reader:
            assert reader.status == 200
        assert held.is_alive(), "the refusal was answered before the reader"
        held.join(timeout=30)
        assert refused == [429]
    log = (tmp_path / "access.log").read_text()
    refusal = r'"POST /admin/login HTTP/1.1" 429 \S+ .* (\d+)us$'
    durations = re.findall(refusal, log, re.MULTILINE)
    assert len(durations) == 1
    assert int(durations[0]) >= HOLD_SECONDS * 1_000_000
