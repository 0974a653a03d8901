"""The nginx configuration the README ships (deploy/nginx), run by a real nginx.

nginx refuses one client's flood of POSTs before gunicorn sees it, in Italian
and with ``Retry-After``, and never counts a reader's GET. The upstream here is
a small WSGI server that counts what reaches it: these tests are about what
nginx lets through, the blog's own limits have tests of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers_servers import free_port, wait_until_listening
from helpers_tls import self_signed
from werkzeug.serving import make_server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
TEMP_PATHS = "\n".join(
    f"{kind}_temp_path {{home}}/{kind};"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
)


def nginx_binary() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(binary, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: run scripts/test-services.sh")
        pytest.skip("nginx is missing: run scripts/test-services.sh")
    return binary


def main_config(home: Path, http: str) -> Path:
    """An nginx.conf of its own for a test, with ``http`` inside http {}."""
    config = home / "nginx.conf"
    config.write_text(
        f"worker_processes 1;\nerror_log {home}/error.log warn;\n"
        f"pid {home}/nginx.pid;\n"
        "events { worker_connections 512; }\n"
        f"http {{\naccess_log off;\n{TEMP_PATHS.format(home=home)}\n{http}\n}}\n"
    )
    return config


class CountingUpstream:
    """A WSGI server standing for gunicorn: answers 200 and counts requests."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port

    def app(self, environ, start_response):
        with self.lock:
            self.seen[environ["REQUEST_METHOD"]] += 1
        headers = [("Content-Type", "text/plain")]
        if environ["PATH_INFO"] == "/long-redirect":
            # The blog's 301 for a long old address has a header this long.
            headers.append(("Location", "/" + "x" * 6000))
        start_response("200 OK", headers)
        return [b"ok"]


@pytest.fixture
def upstream() -> Iterator[CountingUpstream]:
    counting = CountingUpstream()
    thread = threading.Thread(target=counting.server.serve_forever, daemon=True)
    thread.start()
    yield counting
    counting.server.shutdown()


@contextmanager
def running_nginx(
    home: Path, upstream_port: int, server_extra: str = ""
) -> Iterator[str]:
    """nginx with deploy/nginx's limits.conf and app.conf, as blog.conf uses
    them, in front of ``upstream_port``; its address."""
    port = free_port()
    config = main_config(
        home,
        f"include {DEPLOY / 'limits.conf'};\n"
        f"upstream blog_app {{ server 127.0.0.1:{upstream_port}; }}\n"
        f"server {{ listen 127.0.0.1:{port}; include {DEPLOY / 'app.conf'};\n"
        f"{server_extra} }}",
    )
    process = subprocess.Popen(
        [nginx_binary(), "-p", str(home), "-c", str(config), "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,  # it logs to error.log
    )
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def nginx(tmp_path, upstream) -> Iterator[str]:
    # Here only: X-Forwarded-For stands for the client's own address, so that
    # one test can be many clients.
    real_ip = "set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;"
    with running_nginx(tmp_path, upstream.port, real_ip) as url:
        yield url


def send(
    url: str, data: bytes | None = None, client: str = ""
) -> tuple[int, dict, str]:
    """Status, headers and body; a request still waiting after 3 s gives 0."""
    request = urllib.request.Request(url, data=data)
    if client:
        request.add_header("X-Forwarded-For", client)
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except TimeoutError:
        return 0, {}, ""  # held by nginx's queue (limit_req's delay)


def test_the_shipped_site_configuration_is_valid_nginx(tmp_path):
    # blog.conf as the README installs it, with this machine's paths and a
    # throwaway certificate in place of the operator's.
    key, certificate = self_signed(tmp_path, "blog.example.org", days=1)
    site = (
        (DEPLOY / "blog.conf")
        .read_text()
        .replace("/etc/nginx/blog/", f"{DEPLOY}/")
        .replace(
            "/etc/letsencrypt/live/blog.example.org/fullchain.pem", str(certificate)
        )
        .replace("/etc/letsencrypt/live/blog.example.org/privkey.pem", str(key))
        .replace("listen 443 ", f"listen 127.0.0.1:{free_port()} ")
        .replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    )
    (tmp_path / "blog.conf").write_text(site)
    config = main_config(tmp_path, f"include {tmp_path / 'blog.conf'};")
    checked = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_one_clients_flood_of_posts_is_refused_by_nginx(nginx, upstream):
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(
            pool.map(lambda _: send(nginx + "/post/comment", b"x=1"), range(60))
        )
    statuses = Counter(status for status, _, _ in answers)
    # 10 go through at once, 20 wait their turn (one a second), the rest: 429.
    assert statuses[429] >= 25
    assert upstream.seen["POST"] <= 10 + 20
    refused = next(answer for answer in answers if answer[0] == 429)
    _, headers, body = refused
    assert headers["Retry-After"] == "30"
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Troppe richieste" in body and 'lang="it"' in body


def test_readers_are_never_counted_even_during_a_flood(nginx, upstream):
    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(lambda _: send(nginx + "/post/comment", b"x=1"), range(40)))
        readers = list(pool.map(lambda _: send(nginx + "/post/"), range(100)))
    assert [status for status, _, _ in readers] == [200] * 100
    assert upstream.seen["GET"] == 100


def test_many_clients_share_one_allowance_but_the_author_keeps_moderating(
    nginx, upstream
):
    def comment_from(number: int):
        client = f"10.0.{number // 256}.{number % 256}"
        return send(nginx + "/post/comment", b"x=1", client)

    with ThreadPoolExecutor(max_workers=280) as pool:
        flood = [pool.submit(comment_from, number) for number in range(280)]
        # While the shared allowance is spent and its queue full, a new client
        # (the author, say) is refused on the form but not on /admin/.
        wait_for(lambda: sum(future.done() for future in flood) >= 40)
        author = send(nginx + "/admin/comments/1/approve", b"x=1", "192.0.2.7")
        answers = [future.result() for future in flood]
    statuses = Counter(status for status, _, _ in answers)
    # 20 a second, 40 more at once, 160 waiting: the other 60 or so refused.
    assert statuses[429] >= 50
    assert author[0] == 200


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the flood never got its answers"
        time.sleep(0.01)


def test_a_body_over_nginxs_limit_is_refused_in_italian(nginx, upstream):
    status, headers, body = send(nginx + "/post/comment", b"x" * (1024 * 1024 + 1))
    assert status == 413
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'lang="it"' in body and "Invio troppo grande" in body
    assert upstream.seen["POST"] == 0
    assert_no_inline_script(body)


def assert_no_inline_script(body: str) -> None:
    # The blog's rule holds on nginx's pages too (they send no CSP of their own).
    assert "<script" not in body.lower()
    assert "javascript:" not in body.lower()
    assert "style=" not in body.lower()


def test_long_headers_from_the_blog_pass_through(nginx, upstream):
    status, headers, _ = send(nginx + "/long-redirect")
    assert status == 200
    assert len(headers["Location"]) == 6001


@pytest.fixture
def nginx_without_blog(tmp_path) -> Iterator[str]:
    """nginx with nothing listening upstream: the blog stopped, or restarting."""
    with running_nginx(tmp_path, free_port()) as url:
        yield url


def test_a_blog_that_does_not_answer_is_a_pause_said_in_italian(nginx_without_blog):
    for answer in (
        send(nginx_without_blog + "/post/"),
        send(nginx_without_blog + "/post/comment", b"x=1"),
    ):
        status, headers, body = answer
        # 503 and Retry-After, not nginx's English 502: a pause, for readers
        # and for search engines, which keep the page they had.
        assert status == 503
        assert headers["Retry-After"] == "10"
        assert headers["Cache-Control"] == "no-store"
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert 'lang="it"' in body and "non disponibile" in body
        assert_no_inline_script(body)
