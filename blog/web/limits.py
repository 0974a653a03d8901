"""The per-address budget of every POST endpoint, kept by Flask-Limiter."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, current_app
from flask_limiter import RequestLimit
from limits import RateLimitItemPerSecond

from ..extensions import limiter
from . import localstore  # noqa: F401 (defining LocalStorage registers local://)

Breach = Callable[[RequestLimit], Response]


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app``, counting where RATELIMIT_STORAGE_URI says."""
    limiter.init_app(app)


def post_limit() -> str:
    """The budget, read per request so tests and instances may change it."""
    return str(current_app.config["POST_LIMIT_PER_ADDRESS"])


def retry_after(limit: RequestLimit) -> str:
    """Seconds until the window frees a request, at least one."""
    return str(max(1, int(limit.reset_at - time.time()) + 1))


def limit_posts(on_breach: Breach) -> Callable:
    """Decorate a view: POSTs from one address over budget get ``on_breach``."""
    # The limiter checks before the view and before any hook that reads the
    # database, so a flood costs no query. Retry-After is set by each answer,
    # never on accepted requests (on a redirect it would delay the reader).
    return limiter.limit(post_limit, methods=["POST"], on_breach=on_breach)


def limited_page(limit: RequestLimit, message: str) -> Response:
    """A small Italian 429 page that needs no database."""
    body = (
        '<!doctype html>\n<html lang="it"><head><meta charset="utf-8">'
        "<title>Troppe richieste</title></head><body>"
        f"<h1>Troppe richieste</h1><p>{message}</p></body></html>\n"
    )
    response = Response(body, 429, mimetype="text/html")
    response.headers["Retry-After"] = retry_after(limit)
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
