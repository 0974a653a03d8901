"""The ceiling: a WSGI app that serves one pre-rendered page from memory."""

from __future__ import annotations

import os

_BODY = open(os.environ["BENCH_STATIC_PAGE"], "rb").read()  # noqa: SIM115
_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", str(len(_BODY))),
]


def app(environ, start_response):
    """Return the same bytes for every request."""
    start_response("200 OK", list(_HEADERS))
    return [_BODY]
