"""The per-address budget of every POST endpoint, counted before Flask runs.

Flask-Limiter holds the storage (RATELIMIT_STORAGE_URI) and its strategy; the
guard below counts with them in front of Flask, so that a refused POST costs a
fraction of a cached page (see bench/readers_first.py).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import Flask, Response
from limits import RateLimitItem, parse
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..core.settings import ConfigValueError
from ..extensions import limiter
from .errors import MESSAGES, bare_page
from .heldrefusals import DEFAULT_REFUSAL_HOLDS, HeldRefusals
from .ratelimit import budget_key, counted
from .security import add_security_headers, kept_private, too_many_fields
from .writers import WriteSlots

F = TypeVar("F", bound=Callable)


def init_app(app: Flask) -> None:
    """Put the POST budget and the write slots in front of Flask (the limiter
    is bound first, by ``ratelimit.init_app``)."""
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
    # Pingbacks wait on the network, not the CPU: by default one per CPU.
    pings = usable_cpus() if count is None else int(count)
    count = default_write_slots() if count is None else int(count)
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
            PINGS: WriteSlots(pings, pings_directory),
        }
    holds = app.config.get("REFUSAL_HOLDS")
    held = HeldRefusals(
        float(app.config["REFUSAL_HOLD_SECONDS"]),
        DEFAULT_REFUSAL_HOLDS if holds is None else int(holds),
    )
    guard = PostGuard(app, app.wsgi_app, slots, held)
    app.extensions["post_guard"] = guard
    app.wsgi_app = guard  # type: ignore[method-assign]


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system
    tells), which a container or ``taskset`` may make fewer than the
    machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_write_slots(cpus: int | None = None) -> int:
    """One writer per CPU but one, and at least one: with two CPUs or more,
    one is always left to readers. Under a flood of new addresses' comments
    on 2 CPUs, the readers' p99 had a median of 15.5 ms with a writer per
    CPU, and 11 ms with one (``bench/README.md``)."""
    return max(1, (cpus if cpus is not None else usable_cpus()) - 1)


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


def limit_posts(
    refusal: Refusal,
    slots: str = WRITES,
    slot_free: Callable[[Flask, dict], bool] | None = None,
) -> Callable[[F], F]:
    """Mark a view: its POSTs count against POST_LIMIT_PER_ADDRESS and take a
    slot of ``slots`` (WRITES, or PINGS for a view that mostly waits on the
    network), unless ``slot_free(app, environ)`` says the request needs none;
    those refused get ``refusal``'s answer before Flask runs."""

    def mark(view: F) -> F:
        view.post_refusal = refusal  # type: ignore[attr-defined]
        view.slot_pool = slots  # type: ignore[attr-defined]
        view.slot_free = slot_free  # type: ignore[attr-defined]
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
        slot_free = getattr(view, "slot_free", None)
        if pool is not None and slot_free is not None and slot_free(self.app, environ):
            pool = None
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
