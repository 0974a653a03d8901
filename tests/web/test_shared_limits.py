"""The limits on a shared storage (memcached), as several servers would use them:
two apps, like two workers, share each budget."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest
from helpers_admin import add_author, log_in
from helpers_comments import send_comment
from helpers_guard import hang_guard
from helpers_mentions import POST_SLUG
from helpers_servers import free_port, wait_until_listening
from limits import RateLimitItemPerSecond
from limits.storage.memcached import MemcachedStorage

from blog.extensions import limiter
from blog.web import ratelimit
from blog.web.ratelimit import counted

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def memcached() -> Iterator[str]:
    """A throwaway memcached on 127.0.0.1 for one test, as its storage URI."""
    binary = shutil.which("memcached")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("memcached is missing: run scripts/test-services.sh")
        pytest.skip("memcached is missing: run scripts/test-services.sh")
    port = free_port()
    command = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
    if os.getuid() == 0:
        command += ["-u", "nobody"]  # memcached refuses to run as root otherwise
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        wait_until_listening(port, server)  # a dead server ends the wait
        yield f"memcached://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


@pytest.fixture(autouse=True)
def closed_clients(monkeypatch) -> Iterator[None]:
    """Close every memcached client the apps opened, before its server stops."""
    clients = []
    opened = MemcachedStorage.get_client

    def keep(self, *args, **kwargs):
        client = opened(self, *args, **kwargs)
        clients.append(client)
        return client

    monkeypatch.setattr(MemcachedStorage, "get_client", keep)
    yield
    for client in clients:
        client.close()


@pytest.fixture
def app_config(memcached) -> dict:
    return {
        "RATELIMIT_STORAGE_URI": memcached,
        "POST_LIMIT_PER_ADDRESS": "2 per hour",
    }


def test_the_post_budget_is_shared_by_two_workers(
    app, make_app, database_url, app_config
):
    second = make_app(DATABASE_URL=database_url, **app_config)
    path = f"/{POST_SLUG}/comment"
    assert app.test_client().post(path).status_code != 429
    assert second.test_client().post(path).status_code != 429
    refused = app.test_client().post(path)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_ping_limit_is_counted_in_memcached(app, client):
    app.config["PING_LIMIT_PER_IP"] = 1
    data = {"source": "x", "target": "y"}
    client.post("/webmention", data=data)
    refused = client.post("/webmention", data=data)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_sign_in_lock_out_is_counted_in_memcached(app):
    app.config["POST_LIMIT_PER_ADDRESS"] = "60 per minute"  # the lock-out alone
    add_author(app)
    client = app.test_client()
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        assert log_in(client, "riccardo", "sbagliata-davvero").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    assert log_in(client).status_code == 429


def test_a_storage_that_does_not_answer_stops_no_form(
    make_app, database_url, app, caplog
):
    # Nothing listens there: the counters are down, the blog is not.
    down = make_app(
        DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=f"memcached://127.0.0.1:{free_port()}",
    )
    add_author(down)
    client = down.test_client()
    assert send_comment(client, down, "Con i contatori spenti.").status_code == 302
    assert (
        client.post("/webmention", data={"source": "x", "target": "y"}).status_code
        == 400
    )
    assert log_in(client).status_code == 302
    assert "Rate-limit storage unavailable" in caplog.text
    # The sign-in lock-out falls back to the database meanwhile.
    other = down.test_client()
    for _ in range(5):
        assert log_in(other, "riccardo", "sbagliata-davvero").status_code == 401
    assert log_in(other).status_code == 429


def test_a_storage_that_takes_connections_and_never_answers_holds_nothing(
    make_app, database_url, app
):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        mute = make_app(
            DATABASE_URL=database_url,
            RATELIMIT_STORAGE_URI=f"memcached://127.0.0.1:{port}",
        )
        with hang_guard(10):
            response = send_comment(mute.test_client(), mute, "Nessuna risposta")
        assert response.status_code == 302


def test_a_storage_that_failed_is_left_alone_for_a_while(app, monkeypatch):
    asked = []

    def down(*args):
        asked.append(args)
        raise ConnectionRefusedError("memcached giù")

    monkeypatch.setattr(limiter.limiter, "hit", down)
    with app.app_context():
        item = RateLimitItemPerSecond(1, 60, namespace="prova")
        assert all(counted(item, "chiave") for _ in range(5))
    assert len(asked) == 1  # then not asked again for OUTAGE_PAUSE seconds


def test_a_storage_that_failed_is_asked_again_after_the_pause(app, monkeypatch):
    # One blip of memcached must not switch the budgets off until a restart.
    asked = []

    def down(*args):
        asked.append(args)
        raise ConnectionRefusedError("memcached giù")

    now = [1000.0]
    monkeypatch.setattr(limiter.limiter, "hit", down)
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(ratelimit, "_failed", None)
    with app.app_context():
        item = RateLimitItemPerSecond(1, 60, namespace="prova")
        counted(item, "chiave")
        now[0] += ratelimit.OUTAGE_PAUSE + 1
        counted(item, "chiave")
    assert len(asked) == 2
