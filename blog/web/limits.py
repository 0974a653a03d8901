"""The per-address budget of every POST endpoint, counted before Flask runs.

Flask-Limiter holds the storage (RATELIMIT_STORAGE_URI) and its strategy; the
guard below counts with them in front of Flask, so that a refused POST costs a
fraction of a cached page (see bench/readers_first.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import Flask, Response
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..extensions import limiter
from . import localstore  # noqa: F401 (defining LocalStorage registers local://)
from .security import add_security_headers

F = TypeVar("F", bound=Callable)


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app`` (storage from RATELIMIT_STORAGE_URI) and put
    the POST budget in front of Flask."""
    limiter.init_app(app)
    app.wsgi_app = PostBudgetGuard(app, app.wsgi_app)  # type: ignore[method-assign]


@dataclass(frozen=True)
class OverBudget:
    """A POST over its address's budget, as the guard hands it to the refusal."""

    endpoint: str
    view_args: dict[str, Any]
    form: MultiDict  # what a form body held; empty for any other body
    retry_after: int  # seconds until the window frees a request


Refusal = Callable[[Flask, OverBudget], Response]


def limit_posts(refusal: Refusal) -> Callable[[F], F]:
    """Mark a view: its POSTs count against POST_LIMIT_PER_ADDRESS, and those
    over it get ``refusal``'s answer from the guard, before Flask runs."""

    def mark(view: F) -> F:
        view.post_budget_refusal = refusal  # type: ignore[attr-defined]
        return view

    return mark


class PostBudgetGuard:
    """WSGI: each address's POSTs to a marked view, counted and refused here.

    A refusal must cost less than the page a reader is waiting for: no Flask
    request, no session, no query, only the URL match, one counter and a small
    answer. The counter lives in the limiter's storage with its strategy, so
    the workers share it exactly when they share the storage.
    """

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._budget: tuple[str, RateLimitItem] | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        try:
            adapter = self.app.url_map.bind_to_environ(environ)
            endpoint, view_args = adapter.match(method="POST")
        except HTTPException:
            return self.wsgi_app(environ, start_response)
        view = self.app.view_functions.get(endpoint)
        refusal = getattr(view, "post_budget_refusal", None)
        if refusal is None:
            return self.wsgi_app(environ, start_response)
        budget, address = self._item(), environ.get("REMOTE_ADDR") or ""
        if limiter.limiter.hit(budget, endpoint, address):
            return self.wsgi_app(environ, start_response)
        reset = limiter.limiter.get_window_stats(budget, endpoint, address).reset_time
        wait = max(1, int(reset - time.time()) + 1)
        refused = OverBudget(endpoint, view_args, _posted_form(environ), wait)
        response = refusal(self.app, refused)
        response.headers["Retry-After"] = str(wait)
        response.headers["Cache-Control"] = "private, no-store"
        add_security_headers(response)
        return response(environ, start_response)

    def _item(self) -> RateLimitItem:
        # Read per request so tests and instances may change it; parsed once.
        text = post_limit(self.app)
        if self._budget is None or self._budget[0] != text:
            self._budget = (text, parse(text))
        return self._budget[1]


# A comment is at most 64 KB of text; a bigger form body is not echoed back.
_ECHOED_BODY = 128 * 1024


def _posted_form(environ: dict) -> MultiDict:
    content_type = environ.get("CONTENT_TYPE", "")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MultiDict()
    if not content_type.startswith("application/x-www-form-urlencoded") or not (
        0 < length <= _ECHOED_BODY
    ):
        return MultiDict()
    body = environ["wsgi.input"].read(length)
    text = body.decode("utf-8", "replace").replace("\x00", "")
    return MultiDict(parse_qsl(text, keep_blank_values=True))


def post_limit(app: Flask) -> str:
    """The budget of each address at each POST endpoint, as configured."""
    return str(app.config["POST_LIMIT_PER_ADDRESS"])


def limited_page(message: str) -> Response:
    """A small Italian 429 page that needs no database."""
    body = (
        '<!doctype html>\n<html lang="it"><head><meta charset="utf-8">'
        "<title>Troppe richieste</title></head><body>"
        f"<h1>Troppe richieste</h1><p>{message}</p></body></html>\n"
    )
    return Response(body, 429, mimetype="text/html")


def over_budget(bucket: str, key: str, amount: int, seconds: int) -> bool:
    """Count one event for (bucket, key); True when over ``amount`` per window.

    Kept in the limiter's storage with its strategy, so the workers share the
    count exactly when they share the storage.
    """
    item = RateLimitItemPerSecond(amount, seconds, namespace=bucket)
    return not limiter.limiter.hit(item, key)


def seconds_to_reset(bucket: str, key: str, amount: int, seconds: int) -> int:
    """Seconds until (bucket, key) may count again: a refusal's Retry-After."""
    item = RateLimitItemPerSecond(amount, seconds, namespace=bucket)
    reset = limiter.limiter.get_window_stats(item, key).reset_time
    return max(1, int(reset - time.time()) + 1)
