"""The per-address budget of every POST endpoint, counted before Flask runs.

Flask-Limiter holds the storage (RATELIMIT_STORAGE_URI) and its strategy; the
guard below counts with them in front of Flask, so that a refused POST costs a
fraction of a cached page (see bench/readers_first.py).
"""

from __future__ import annotations

import io
import ipaddress
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import Flask, Response
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import ConfigurationError
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..core.settings import ConfigValueError
from ..core.urls import site_script_root
from ..extensions import limiter
from . import localstore  # noqa: F401 (defining LocalStorage registers local://)
from .errors import MESSAGES, bare_page
from .security import add_security_headers, kept_private, too_many_fields
from .writers import WriteSlots

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app`` (storage from RATELIMIT_STORAGE_URI) and put
    the POST budget and the write slots in front of Flask."""
    _bind_limiter(app)
    budget = str(app.config["POST_LIMIT_PER_ADDRESS"])
    try:
        parse(budget)
    except ValueError as error:
        # Read at the first POST, it would fail every POST with a 500.
        raise ConfigValueError(
            f"Refusing to start: POST_LIMIT_PER_ADDRESS={budget!r} is not a limit "
            "such as '60 per minute'."
        ) from error
    count = app.config.get("WRITE_SLOTS")
    count = os.cpu_count() or 1 if count is None else int(count)
    slots = {}
    if count > 0:
        directory = app.config.get("WRITE_SLOTS_DIR")
        # Pingbacks wait on the network, not the CPU: slots of their own, so
        # that slow sources neither hold the writers' nor run without bound.
        pings_directory = os.path.join(directory, "pings") if directory else None
        if pings_directory:
            os.makedirs(pings_directory, exist_ok=True)
        slots = {
            WRITES: WriteSlots(count, directory),
            PINGS: WriteSlots(count, pings_directory),
        }
    holds = app.config.get("REFUSAL_HOLDS")
    held = HeldRefusals(
        float(app.config["REFUSAL_HOLD_SECONDS"]),
        DEFAULT_REFUSAL_HOLDS if holds is None else int(holds),
    )
    guard = PostGuard(app, app.wsgi_app, slots, held)
    app.extensions["post_guard"] = guard
    app.wsgi_app = guard  # type: ignore[method-assign]


# Limits an operator may declare in Flask-Limiter's own settings
# (BLOG_RATELIMIT_DEFAULT...): with any of them, its hooks stay and check them.
_FLASK_LIMITER_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _bind_limiter(app: Flask) -> None:
    if not app.config.get("RATELIMIT_ENABLED", True):
        raise RuntimeError(
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


BUDGET_MESSAGE = "Troppe richieste da questo indirizzo: riprova più tardi."
BUSY_MESSAGE = (
    "Il blog è molto occupato in questo momento: riprova tra qualche secondo."
)


@dataclass(frozen=True)
class RefusedPost:
    """A POST the guard refuses, as it hands it to the view's refusal."""

    endpoint: str
    view_args: dict[str, Any]
    form: MultiDict  # what a form body held; empty for any other body
    status: int  # 429: over its address's budget; 503: every write slot taken
    retry_after: int  # seconds

    @property
    def busy(self) -> bool:
        """Refused because other POSTs were writing, not for this address."""
        return self.status == 503

    def message(self, over_budget: str = BUDGET_MESSAGE) -> str:
        """What the refusal says: BUSY_MESSAGE, or ``over_budget`` for a 429."""
        return BUSY_MESSAGE if self.busy else over_budget


Refusal = Callable[[Flask, RefusedPost], Response]


WRITES, PINGS = "writes", "pings"


def limit_posts(refusal: Refusal, slots: str = WRITES) -> Callable[[F], F]:
    """Mark a view: its POSTs count against POST_LIMIT_PER_ADDRESS and take a
    slot of ``slots`` (WRITES, or PINGS for a view that mostly waits on the
    network); those refused get ``refusal``'s answer before Flask runs."""

    def mark(view: F) -> F:
        view.post_refusal = refusal  # type: ignore[attr-defined]
        view.slot_pool = slots  # type: ignore[attr-defined]
        return view

    return mark


class PostGuard:
    """WSGI: public POSTs counted per address and bounded in number, here.

    A refusal must cost less than the page a reader is waiting for: no Flask
    request, no session, no query, only the URL match, one counter and a small
    answer. The counter lives in the limiter's storage with its strategy, so
    the workers share it exactly when they share the storage. A POST within its
    budget never waits for a slot: with every write slot taken it is answered
    503, so the other workers stay free for readers. A threaded worker answers
    each refusal after a pause (``HeldRefusals``), its slot given back first.
    """

    def __init__(
        self,
        app: Flask,
        wsgi_app: Callable,
        slots: dict[str, WriteSlots],
        held: HeldRefusals,
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.slots = slots
        self.held = held
        self._budget: tuple[str, RateLimitItem] | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        # Werkzeug reads the method in upper case, whatever the client wrote.
        if method != "POST" and str(method).upper() != "POST":
            return self.wsgi_app(environ, start_response)
        try:
            adapter = self.app.url_map.bind_to_environ(environ)
            endpoint, view_args = adapter.match(method="POST")
        except HTTPException:
            return self.wsgi_app(environ, start_response)
        view = self.app.view_functions.get(endpoint)
        refusal = getattr(view, "post_refusal", None)
        if refusal is None:
            return self.wsgi_app(environ, start_response)
        budget, address = self._item(), budget_key(environ.get("REMOTE_ADDR") or "")
        if not counted(budget, endpoint, address):
            stats = limiter.limiter.get_window_stats(budget, endpoint, address)
            wait = max(1, int(stats.reset_time - time.time()) + 1)
            refused = RefusedPost(endpoint, view_args, _posted_form(environ), 429, wait)
            return self._answer(environ, start_response, refusal, refused)
        slot, pool = None, self.slots.get(getattr(view, "slot_pool", WRITES))
        if pool is not None:
            # A client that sends its body slowly (or never) holds a thread,
            # as a slow reader does, but no slot: two such clients would
            # otherwise refuse every public POST of the server while they wait.
            if not read_body_first(environ, self.app.config.get("MAX_CONTENT_LENGTH")):
                title, message = MESSAGES[400]
                return bare_page(title, message, 400)(environ, start_response)
            if _too_many_fields(environ, int(self.app.config["MAX_FORM_PARTS"])):
                title, message = MESSAGES[413]
                return bare_page(title, message, 413)(environ, start_response)
            slot = pool.try_acquire()
            if slot is None:
                form = _posted_form(environ)
                refused = RefusedPost(endpoint, view_args, form, 503, 1)
                return self._answer(environ, start_response, refusal, refused)
        statuses: list[str] = []

        def noting_status(status: str, headers: list, exc_info=None):
            statuses.append(status)
            return start_response(status, headers, exc_info)

        try:
            # The view runs inside this call; the body it returns is ready.
            body = self.wsgi_app(environ, noting_status)
        finally:
            if slot is not None:
                pool.release(slot)
        if statuses and statuses[-1][:3] in REFUSED_STATUSES:
            # Refused by the view (the sender's flood rule, the sign-in lock):
            # held like the guard's own, its write slot already given back.
            self.held.hold(environ)
        return body

    def _answer(
        self,
        environ: dict,
        start_response: Callable,
        refusal: Refusal,
        refused: RefusedPost,
    ) -> Iterable[bytes]:
        response = refusal(self.app, refused)
        response.headers["Retry-After"] = str(refused.retry_after)
        add_security_headers(kept_private(response))
        self.held.hold(environ)
        return response(environ, start_response)

    def _item(self) -> RateLimitItem:
        # Read per request so tests and instances may change it; parsed once.
        text = str(self.app.config["POST_LIMIT_PER_ADDRESS"])
        if self._budget is None or self._budget[0] != text:
            self._budget = (text, parse(text))
        return self._budget[1]


REFUSED_STATUSES = ("429", "503")
# Threads of a process that may pause at once when the server's thread count
# is unknown (waitress's default is 4); fit_refusal_holds knows it.
DEFAULT_REFUSAL_HOLDS = 2


def fit_refusal_holds(app: object, threads: int) -> None:
    """Let three in four of a worker's ``threads`` pause refusals, unless
    REFUSAL_HOLDS is configured; never all of them. For gunicorn.conf.py, once
    the worker's own thread count is known (``--threads`` wins over the file);
    an app that is not the blog (the benchmarks' static page) is left alone."""
    guard = getattr(app, "extensions", {}).get("post_guard")
    if guard is None:
        return
    configured = guard.app.config.get("REFUSAL_HOLDS")
    at_once = threads * 3 // 4 if configured is None else int(configured)
    guard.held.fit(min(at_once, threads - 1))


class HeldRefusals:
    """Refused POSTs answered after a pause, by threaded workers.

    A client that sends again as soon as it is answered (a script's loop) gets
    turns in proportion to its connections, however cheap each refusal is:
    sixteen such connections against a reader's four leave the reader a fifth
    of the workers. Held for ``seconds`` in a thread that sleeps, each of them
    sends one request a second and costs no CPU meanwhile. Only where a pause
    takes no worker from readers: in a threaded worker (a sync worker held is
    a worker lost), and in at most ``at_once`` threads of each process, so the
    others stay free; past that bound a refusal is answered at once.
    """

    def __init__(self, seconds: float, at_once: int) -> None:
        self.seconds = seconds
        self.pause: Callable[[float], None] = time.sleep
        self.fit(at_once)

    def fit(self, at_once: int) -> None:
        """Pause in at most ``at_once`` threads (none when 0). Before serving."""
        self.at_once = max(at_once, 0)
        self._taken = threading.BoundedSemaphore(max(self.at_once, 1))

    def hold(self, environ: dict) -> None:
        """Pause this request's thread before its refusal is answered."""
        if self.seconds <= 0 or self.at_once <= 0:
            return
        if not environ.get("wsgi.multithread"):
            return
        if not self._taken.acquire(blocking=False):
            return
        try:
            self.pause(self.seconds)
        finally:
            self._taken.release()


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


def read_body_first(environ: dict, limit: int | None) -> bool:
    """Read the request's body now, into memory, when it is within ``limit``;
    one over it is left for Flask's 413. A chunked body is read up to one byte
    past the limit and given its length, so Flask refuses it too instead of
    reading a form cut at the limit. False when the body cannot be read."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return True  # Werkzeug reads such a request as having no body
    chunked = length < 0 and environ.get("wsgi.input_terminated")
    if (length < 0 and not chunked) or (limit is not None and length > limit):
        return True
    stream = environ["wsgi.input"]
    try:
        if chunked:
            body = stream.read() if limit is None else stream.read(limit + 1)
            environ["CONTENT_LENGTH"] = str(len(body))
            # Werkzeug reads a body still marked chunked to its end, cut at
            # the limit, whatever length it is given.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        else:
            body = stream.read(length)
            if len(body) < length:  # how gunicorn hands over a cut connection
                return False
    except Exception:  # noqa: BLE001 (a broken chunked body, a cut connection)
        return False
    environ["wsgi.input"] = io.BytesIO(body)
    return True


def _too_many_fields(environ: dict, parts: int) -> bool:
    # On a form body ``read_body_first`` read; one it left (over the size
    # limit) gets Flask's 413.
    stream = environ["wsgi.input"]
    return (
        str(environ.get("CONTENT_TYPE", "")).startswith(
            "application/x-www-form-urlencoded"
        )
        and isinstance(stream, io.BytesIO)
        and too_many_fields(stream.getvalue(), parts)
    )


# A comment is at most 64 KB of text; a bigger form body is not echoed back.
_ECHOED_BODY = 128 * 1024
_ECHOED_FIELDS = 100


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
    try:
        # No form of the blog has a tenth of these: a body of thousands of
        # empty fields is not parsed for a refusal.
        fields = parse_qsl(text, keep_blank_values=True, max_num_fields=_ECHOED_FIELDS)
    except ValueError:
        return MultiDict()
    return MultiDict(fields)


def small_refusal(message: str = BUDGET_MESSAGE) -> Refusal:
    """A refusal that answers ``limited_page``: ``message`` over the budget,
    BUSY_MESSAGE when every write slot is taken."""

    def refuse(app: Flask, refused: RefusedPost) -> Response:
        return limited_page(refused.message(message), refused.status)

    return refuse


def slot(name: str) -> str:
    """A place in a refusal page rendered once per app (a shell), filled in for
    each refusal with ``fill_slots``: no template, no query per refusal."""
    # Letters and dashes only: HTML escaping leaves a slot as it is.
    return f"budget-slot-{name.replace('_', '-')}"


# Greedy, so that "comment-parent" is one slot, not "comment" and a tail.
_SLOTS = re.compile(r"budget-slot-[a-z-]+")


def fill_slots(shell: str, values: dict[str, str]) -> str:
    """``shell`` with each slot's value, escaped, in one pass: a typed text that
    names a slot stays as typed."""

    def value(match: re.Match) -> str:
        found = values.get(match.group(0))
        # Text of the shell's own that only looks like a slot stays as it is;
        # a NUL typed as "%00" has no place in a page.
        if found is None:
            return match.group(0)
        return str(escape(found.replace("\0", "")))

    return _SLOTS.sub(value, shell)


def shell_request(app: Flask, path: str = "/", method: str = "GET"):
    """A request context to render a refusal shell in: under the site's root
    (SITE_URL's path), as the requests it will answer, so its links hold it."""
    root = site_script_root(app)
    return app.test_request_context(
        path, method=method, base_url=f"http://localhost{root}/"
    )


def limited_page(message: str, status: int = 429) -> Response:
    """A small Italian refusal page that needs no database."""
    title = "Servizio non disponibile" if status == 503 else "Troppe richieste"
    return bare_page(title, message, status)


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
