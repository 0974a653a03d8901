"""No comment acknowledged with a redirect is ever lost: under gunicorn with the
project's gunicorn.conf.py, with 32 clients at once, and when every server
process is killed with SIGKILL in the middle of the load; SQLite and PostgreSQL.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar

import pytest
from helpers_mentions import POST_SLUG
from helpers_servers import served_blog
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

CLIENTS = 32


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    database_url: str

    def kill_every_process(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def server(empty_database_url, tmp_path) -> Iterator[Server]:
    with served_blog(
        empty_database_url,
        tmp_path,
        BLOG_COMMENT_FLOOD_SECONDS="0",
        BLOG_COMMENT_MIN_SECONDS="0",
        BLOG_POST_LIMIT_PER_ADDRESS="100000 per minute",
        GUNICORN_WORKERS="3",
    ) as (port, process):
        yield Server(port, process, empty_database_url)


def form_session(port: int) -> tuple[str, dict[str, str]]:
    """A session cookie and the form's fields, as a browser holds them."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"http://127.0.0.1:{port}/{POST_SLUG}/").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    fields = {"csrf_token": token.group(1), "author": "Carico", "comment_parent": "0"}
    return cookie, fields


@dataclass
class Load:
    """Clients posting comments; what the server acknowledged, by text."""

    port: int
    cookie: str
    fields: dict[str, str]
    acknowledged: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def post_until_acknowledged(self, text: str) -> bool:
        """Send one comment, again after each 503, until a redirect or stop."""
        body = urllib.parse.urlencode(
            self.fields | {"comment": text, "email": f"{abs(hash(text))}@example.org"}
        )
        while not self.stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.request(
                    "POST",
                    f"/{POST_SLUG}/comment",
                    body,
                    {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": self.cookie,
                    },
                )
                response = connection.getresponse()
            except (OSError, http.client.HTTPException):
                connection.close()
                return False  # the server is gone: nothing was acknowledged
            try:
                # The status line and headers are the acknowledgement; the
                # server may die while the body is on its way.
                response.read()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            if response.status == 302:
                location = response.getheader("Location")
                comment_id = int(re.search(r"/comment/(\d+)/", location).group(1))
                with self.lock:
                    self.acknowledged[text] = comment_id
                return True
            assert response.status == 503, response.status  # every slot writing
            time.sleep(0.01)
        return False

    def run(self, texts: list[str]) -> list[threading.Thread]:
        shares = [texts[n::CLIENTS] for n in range(CLIENTS)]

        def client(share: list[str]) -> None:
            for comment in share:
                if not self.post_until_acknowledged(comment):
                    return

        threads = [threading.Thread(target=client, args=(s,)) for s in shares]
        for thread in threads:
            thread.start()
        return threads


def stored(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT content, id FROM comment WHERE author_name = 'Carico'")
            )
            return dict(rows.all())
    finally:
        engine.dispose()


def test_a_thousand_comments_from_32_clients_are_all_stored(server):
    load = Load(server.port, *form_session(server.port))
    texts = [f"Commento numero {n}" for n in range(1000)]
    for thread in load.run(texts):
        thread.join(timeout=300)
    assert len(load.acknowledged) == 1000
    assert stored(server.database_url) == load.acknowledged


def test_killing_every_server_process_loses_no_acknowledged_comment(server):
    load = Load(server.port, *form_session(server.port))
    threads = load.run([f"Commento prima del crollo {n}" for n in range(5000)])
    deadline = time.monotonic() + 60
    while len(load.acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill_every_process()  # mid-load: requests are in flight
    load.stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(load.acknowledged) >= 200
    kept = stored(server.database_url)
    lost = {text for text in load.acknowledged if text not in kept}
    assert not lost
    assert all(kept[text] == number for text, number in load.acknowledged.items())
