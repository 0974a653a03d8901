"""Local web servers and app set-up for the pingback and webmention tests.

Every server here binds a loopback address (127.0.0.2 and up, port 0); the
blog under test is allowed to reach 127.0.0.2 and 127.0.0.3 only, so 127.0.0.1
stays forbidden as it is in production.
"""

from __future__ import annotations

import threading
import xmlrpc.client
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask
from werkzeug.serving import make_server

from blog.extensions import db
from blog.mentions import jobs as mention_jobs
from blog.models import Post, utcnow

POST_SLUG = "chi-e-e-chi-non-e-il-community-manager"
ALLOWED = "127.0.0.2,127.0.0.3"
MENTION_CONFIG = {
    "OUTBOUND_ALLOW": ALLOWED,
    # The tests exercise the address policy itself, not the test-mode net.
    "OUTBOUND_ONLY_ALLOWED": False,
    "OUTBOUND_CONNECT_TIMEOUT": 2,
    "OUTBOUND_TOTAL_TIMEOUT": 3,
    "MENTIONS_WORKER": "off",
}


def post_url(app: Flask, slug: str = POST_SLUG) -> str:
    """The public URL of one of the app's posts."""
    return app.config["SITE_URL"].rstrip("/") + f"/{slug}/"


def source_page(target: str, before: str = "", after: str = "", title: str = "") -> str:
    """A small HTML page with one paragraph linking to ``target``."""
    return (
        f"<!doctype html><html><head><title>{title or 'Una fonte'}</title></head>"
        f"<body><p>{before} <a href='{target}'>questo articolo</a> {after}</p>"
        "</body></html>"
    )


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/html; charset=utf-8"


Route = Reply | Callable[[Recorded], Reply]


class LocalSite:
    """A threaded HTTP server on a loopback address answering from ``routes``."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self.release = threading.Event()  # lets slow handlers finish at close
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                record = Recorded(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    self.rfile.read(length) if length else b"",
                )
                site.requests.append(record)
                route = site.routes.get(self.path) or Reply(404, "non trovato")
                reply = route(record) if callable(route) else route
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Connection", "close")
                for name, value in reply.headers:
                    self.send_header(name, value)
                body = reply.body
                if isinstance(body, bytes | str):
                    data = body.encode() if isinstance(body, str) else body
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.end_headers()
                try:
                    for chunk in body:
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the client stopped reading, as it should

            do_GET = do_POST = do_HEAD = _handle

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def page(self, path: str, html: str, status: int = 200, **options) -> str:
        """Serve ``html`` at ``path``; returns its URL."""
        self.routes[path] = Reply(status, html, **options)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Reply(status, "", [("Location", location)])
        return self.url(path)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def local_site(host: str = "127.0.0.2") -> Iterator[LocalSite]:
    site = LocalSite(host)
    try:
        yield site
    finally:
        site.close()


@contextmanager
def serve_app(app: Flask, host: str = "127.0.0.3") -> Iterator[str]:
    """Serve ``app`` on ``host``; its SITE_URL becomes that address."""
    server = make_server(host, 0, app, threaded=True)
    base = f"http://{host}:{server.server_port}"
    app.config["SITE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def call(client, method: str, *params) -> object:
    """Call an XML-RPC method through the Flask test client; Fault is raised."""
    body = xmlrpc.client.dumps(params, method)
    response = client.post("/xmlrpc.php", data=body, content_type="text/xml")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return xmlrpc.client.loads(response.data)[0][0]


def fault_code(client, method: str, *params) -> int:
    """The fault code the endpoint answers with (fails if it succeeds)."""
    return fault_of(client, method, *params).faultCode


def fault_of(client, method: str, *params) -> xmlrpc.client.Fault:
    """The fault the endpoint answers with (fails if it succeeds)."""
    try:
        call(client, method, *params)
    except xmlrpc.client.Fault as fault:
        return fault
    raise AssertionError("expected a fault")


def add_post(app: Flask, slug: str, body: str, **fields) -> int:
    """Create a post by the seed's author; its id."""
    with app.app_context():
        author_id = db.session.scalar(db.select(Post.author_id).limit(1))
        post = Post(
            slug=slug,
            title=fields.pop("title", slug.replace("-", " ").title()),
            body=body,
            author_id=author_id,
            status=fields.pop("status", "published"),
            published_at=fields.pop("published_at", utcnow()),
            **fields,
        )
        db.session.add(post)
        db.session.commit()
        return post.id


def drain(app: Flask) -> int:
    """Run every queued mention job now, as ``flask process-mentions`` would."""
    with app.app_context():
        return mention_jobs.drain()
