"""Flask-Limiter bound to the app, and the counts the blog keeps in its storage.

Flask-Limiter holds the storage (RATELIMIT_STORAGE_URI) and its strategy; the
blog declares no limit of Flask-Limiter's own but counts with them: the POST
budget (``postguard``), the flood rules of comments and mentions, the sign-in
lock-out. A shared storage that does not answer lets the events through.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from functools import lru_cache, partial

from flask import Flask
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import ConfigurationError

from ..core.settings import ConfigValueError
from ..extensions import limiter
from . import localstore  # noqa: F401 (defining LocalStorage registers local://)

logger = logging.getLogger(__name__)


# Limits an operator may declare in Flask-Limiter's own settings
# (BLOG_RATELIMIT_DEFAULT...): with any of them, its hooks stay and check them.
_FLASK_LIMITER_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app``: its storage from RATELIMIT_STORAGE_URI, with
    a timeout; its request hooks dropped unless a limit of its own is set."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        raise ConfigValueError(
            "Refusing to start: RATELIMIT_ENABLED is off, but the per-address "
            "POST budget and the sign-in lock-out count in Flask-Limiter's "
            "storage. Raise POST_LIMIT_PER_ADDRESS instead."
        )
    # One limiter for every app of the process (extensions.py), which keeps
    # what the last app's config gave it: each app starts again from its own.
    limiter.limit_manager.set_default_limits([])
    limiter.limit_manager.set_application_limits([])
    _give_up_on_a_silent_storage(app)
    try:
        limiter.init_app(app)
    except ConfigurationError as error:
        # An unknown scheme (memcache://), or a client library not installed.
        raise ConfigValueError(
            f"Refusing to start: RATELIMIT_STORAGE_URI="
            f"{app.config.get('RATELIMIT_STORAGE_URI')!r} cannot be used: "
            f"{str(error).rstrip('.')}."
        ) from error
    if not any(app.config.get(name) for name in _FLASK_LIMITER_LIMITS):
        _drop_request_hooks(app)


# Seconds a shared storage may take to answer: then the request goes through
# uncounted (``counted``). Its clients wait for ever by default, so a server
# that takes connections and never answers would hold every POST.
STORAGE_TIMEOUT = 1
_STORAGE_TIMEOUTS = {
    "memcached": ("connect_timeout", "timeout"),
    "redis": ("socket_connect_timeout", "socket_timeout"),
    "rediss": ("socket_connect_timeout", "socket_timeout"),
}


def _give_up_on_a_silent_storage(app: Flask) -> None:
    scheme = str(app.config.get("RATELIMIT_STORAGE_URI") or "").partition(":")[0]
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    for name in _STORAGE_TIMEOUTS.get(scheme.split("+")[0], ()):
        options.setdefault(name, STORAGE_TIMEOUT)  # the operator's own wins
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options


def _drop_request_hooks(app: Flask) -> None:
    # The blog declares no Flask-Limiter limit: it counts with the limiter's
    # storage and strategy itself (PostGuard, over_budget). The hooks that
    # Flask-Limiter puts around every request would look for limits that are
    # not there: 0.1 ms of each Flask request, reader's or writer's.
    hooks = (
        (app.before_request_funcs, limiter._check_request_limit),
        (app.teardown_request_funcs, limiter._Limiter__release_context),
    )
    for registry, hook in hooks:
        registry[None] = [f for f in registry.get(None, []) if f != hook]
    app.after_request_funcs[None] = [
        f
        for f in app.after_request_funcs.get(None, [])
        if not (isinstance(f, partial) and f.args[:1] == (limiter,))
    ]


# Asked several times a POST, of the few addresses a wave comes from.
@lru_cache(maxsize=4096)
def budget_key(address: str) -> str:
    """Whom a POST counts against: its IPv4 address, or its IPv6 /64 (one
    client holds a whole /64 and could pick a new address for every POST)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def budget_used(bucket: str, key: str, amount: int, seconds: int) -> bool:
    """Whether (bucket, key) has no event left of ``amount`` per window,
    without counting one; False while the storage does not answer."""
    item = RateLimitItemPerSecond(amount, seconds, namespace=bucket)
    try:
        return not limiter.limiter.test(item, key)
    except Exception:  # noqa: BLE001 (as ``counted``: an outage lets it through)
        return False


def over_budget(bucket: str, key: str, amount: int, seconds: int) -> bool:
    """Count one event for (bucket, key); True when over ``amount`` per window.

    Kept in the limiter's storage with its strategy, so the workers share the
    count exactly when they share the storage.
    """
    item = RateLimitItemPerSecond(amount, seconds, namespace=bucket)
    return not counted(item, key)


# The storage that last failed, and when: it is left alone for a while after.
_failed: tuple[object, float] | None = None
OUTAGE_PAUSE = 30.0  # seconds without asking a storage that failed


def counted(item: RateLimitItem, *keys: str) -> bool:
    """Count one event in the limiter's storage; False when over the limit.

    A shared storage (memcached, redis) that does not answer lets the event
    through, said in the log, and is not asked again for OUTAGE_PAUSE seconds
    (each try may wait STORAGE_TIMEOUT): an outage of the counters must not
    take the blog down or slow every POST, the author's sign-in included
    (whose lock-out counts in the database meanwhile).
    """
    global _failed
    storage = limiter.limiter.storage
    if (
        _failed
        and _failed[0] is storage
        and time.monotonic() - _failed[1] < OUTAGE_PAUSE
    ):
        return True
    try:
        return limiter.limiter.hit(item, *keys)
    except Exception as error:  # each storage's client raises its own errors
        _failed = (storage, time.monotonic())
        logger.warning(
            "Rate-limit storage unavailable, not counting for %d s: %s",
            OUTAGE_PAUSE,
            error,
        )
        return True


def seconds_to_reset(bucket: str, key: str, amount: int, seconds: int) -> int:
    """Seconds until (bucket, key) may count again: a refusal's Retry-After."""
    item = RateLimitItemPerSecond(amount, seconds, namespace=bucket)
    reset = limiter.limiter.get_window_stats(item, key).reset_time
    return max(1, int(reset - time.time()) + 1)
