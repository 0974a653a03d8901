"""The ceiling: a WSGI app that serves one pre-rendered page from memory, and
refuses every POST at once (the cheapest refusal an app can make)."""

from __future__ import annotations

import os

_BODY = open(os.environ["BENCH_STATIC_PAGE"], "rb").read()  # noqa: SIM115
_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", str(len(_BODY))),
]


_REFUSAL = "Troppe richieste: riprova più tardi.".encode()
_REFUSAL_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(_REFUSAL))),
    ("Retry-After", "60"),
]


def app(environ, start_response):
    """The same bytes for every GET; a 429 for every POST."""
    if environ["REQUEST_METHOD"] == "POST":
        start_response("429 Too Many Requests", list(_REFUSAL_HEADERS))
        return [_REFUSAL]
    start_response("200 OK", list(_HEADERS))
    return [_BODY]
