"""The one guarded HTTP client for every request the blog makes to another site.

Pingback and webmention verification, endpoint discovery and sending all go
through ``Fetcher``: http and https only, proxy settings ignored (the standard
library's ``http.client`` never reads them), the host resolved once and every
resolved address checked by ``is_forbidden_address`` before the connection is
made to that same pinned address, each redirect checked again, and time and
bytes capped.
"""

from __future__ import annotations

import functools
import http.client
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..core.text import strip_controls
from .addresses import Allowlist, is_forbidden_address
from .connections import (
    PinnedHTTPConnection,
    PinnedHTTPSConnection,
    abort,
    numeric_address,
    system_resolve,
)

__all__ = [
    "Fetcher",
    "FetchError",
    "Limits",
    "Response",
    "config_defaults",
    "fetcher_for",
    "limits_from_config",
    "is_forbidden_address",
    "user_agent",
]

Resolver = Callable[[str, int], list[str]]
REDIRECTS = (301, 302, 303, 307, 308)
DEFAULT_PORTS = {"http": 80, "https": 443}
# getaddrinfo has no timeout of its own, so each lookup runs in a daemon thread
# that the fetch waits for at most the connect timeout (and never past its
# deadline). A lookup that hangs keeps its thread, not the request, and does not
# hold up the process's exit; at most this many may hang at once per process.
MAX_PENDING_LOOKUPS = 16
_lookup_slots: tuple[int, threading.BoundedSemaphore] | None = None


class FetchError(Exception):
    """A fetch refused by the policy or failed on the way; ``kind`` says which."""

    def __init__(self, kind: str, message: str) -> None:
        # The message may quote the answer's bytes (a status line with a NUL),
        # and it is stored and sent back to the pinger: no control characters.
        super().__init__(strip_controls(message))
        self.kind = kind  # url | forbidden | network | timeout | redirects


@dataclass(frozen=True)
class Limits:
    """Time, size, redirect and port limits; each is ``OUTBOUND_<NAME>`` in config.

    These defaults are the config's defaults too (see ``config_defaults``).
    """

    connect_timeout: float = 3.0
    total_timeout: float = 8.0
    max_bytes: int = 1_000_000
    max_redirects: int = 3
    # Ports reachable on addresses not in the allowlist (as WordPress does).
    ports: frozenset[int] = frozenset({80, 443, 8080})


@dataclass
class Response:
    """What came back: final URL, status, headers and at most ``max_bytes``."""

    url: str
    status: int
    headers: Message
    body: bytes
    truncated: bool = False

    @property
    def content_type(self) -> str:
        """The media type of the body, without its parameters."""
        return self.headers.get_content_type()

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type names, if any."""
        return self.headers.get_content_charset()

    @property
    def is_html(self) -> bool:
        """Whether the body is a web page (HTML or XHTML)."""
        return self.content_type in ("text/html", "application/xhtml+xml")


class Fetcher:
    """Makes GET and POST requests under the address policy and the limits."""

    def __init__(
        self,
        user_agent: str,
        allow: Allowlist | None = None,
        limits: Limits | None = None,
        resolver: Resolver | None = None,
        only_allowed: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.allow = allow or Allowlist()
        self.limits = limits or Limits()
        self.resolver = resolver
        # Test mode: nothing outside the allowlist, and no DNS for other names.
        self.only_allowed = only_allowed
        self.ssl_context = ssl_context or _default_ssl_context(os.getpid())

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET ``url``, following at most ``max_redirects`` checked redirects."""
        deadline = time.monotonic() + self.limits.total_timeout
        for _ in range(self.limits.max_redirects + 1):
            response = self._once("GET", url, None, headers or {}, deadline)
            location = response.headers.get("Location")
            if response.status not in REDIRECTS or not location:
                return response
            url = urljoin(url, location.strip())
        raise FetchError("redirects", "troppi reindirizzamenti")

    def post(
        self, url: str, body: bytes, content_type: str, accept: str = "*/*"
    ) -> Response:
        """POST ``body`` to ``url``; a redirect is returned, not followed."""
        deadline = time.monotonic() + self.limits.total_timeout
        headers = {"Content-Type": content_type, "Accept": accept}
        return self._once("POST", url, body, headers, deadline)

    def check_url(
        self, url: str, deadline: float | None = None
    ) -> tuple[str, str, int, str]:
        """(scheme, host, port, pinned address) for ``url``, or FetchError."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise FetchError("url", "solo indirizzi http e https")
        if parts.username is not None or parts.password is not None:
            raise FetchError("url", "indirizzo con credenziali")
        host = (parts.hostname or "").rstrip(".")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise FetchError("url", "porta non valida") from None
        if not host:
            raise FetchError("url", "indirizzo senza host")
        return scheme, host, port, self._pick_address(host, port, deadline)

    def _pick_address(self, host: str, port: int, deadline: float | None) -> str:
        host_allowed = self.allow.allows_host(host)
        addresses = self._resolve(host, port, host_allowed, deadline)
        if not addresses:
            raise FetchError("network", f"{host}: nessun indirizzo")
        for address in addresses:
            allowed = host_allowed or self.allow.allows_address(address)
            if not allowed and (self.only_allowed or is_forbidden_address(address)):
                # Not naming the address: the sender would learn what our
                # resolver says of names inside the network.
                raise FetchError("forbidden", f"{host}: indirizzo non raggiungibile")
            if not allowed and port not in self.limits.ports:
                raise FetchError("forbidden", f"{host}: porta {port} non consentita")
        return addresses[0]

    def _resolve(
        self, host: str, port: int, host_allowed: bool, deadline: float | None
    ) -> list[str]:
        wait = self.limits.connect_timeout
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
        if self.resolver is not None:
            return resolve_within(self.resolver, host, port, wait)
        numeric = numeric_address(host)
        if numeric is not None:
            return [numeric]
        if self.only_allowed and not host_allowed and host != "localhost":
            raise FetchError("forbidden", f"{host}: nome non nella lista consentita")
        try:
            return resolve_within(system_resolve, host, port, wait)
        except (OSError, UnicodeError) as error:
            raise FetchError("network", f"{host}: {error}") from None

    def _once(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        deadline: float,
    ) -> Response:
        scheme, host, port, address = self.check_url(url, deadline)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", "tempo scaduto")
        timeout = min(self.limits.connect_timeout, remaining)
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = PinnedHTTPSConnection(host, port, address, timeout, self.ssl_context)
        else:
            conn = PinnedHTTPConnection(host, port, address, timeout)
        # Closing the socket from a timer bounds the whole exchange, even a
        # server that trickles one byte just before each read timeout.
        watchdog = threading.Timer(remaining, abort, (conn,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._exchange(conn, method, url, body, headers, deadline)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as error:
            if time.monotonic() >= deadline or isinstance(error, TimeoutError):
                raise FetchError("timeout", "tempo scaduto") from None
            raise FetchError("network", f"{host}: {error}") from None
        finally:
            watchdog.cancel()
            conn.close()

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        deadline: float,
    ) -> Response:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.putrequest(method, target)
        sent: dict[str, Any] = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Connection": "close",
            **headers,
        }
        if body is not None:
            sent["Content-Length"] = str(len(body))
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        try:
            content, truncated = self._read_body(response, deadline)
        finally:
            response.close()
        return Response(
            url=url,
            status=response.status,
            headers=response.headers,
            body=content,
            truncated=truncated,
        )

    def _read_body(
        self, response: http.client.HTTPResponse, deadline: float
    ) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        limit = self.limits.max_bytes
        while True:
            if time.monotonic() >= deadline:
                raise FetchError("timeout", "tempo scaduto")
            chunk = response.read1(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                # Stop reading: the rest is never downloaded.
                return b"".join(chunks)[:limit], True
        if time.monotonic() >= deadline:
            raise FetchError("timeout", "tempo scaduto")  # the watchdog cut it short
        return b"".join(chunks), False


def resolve_within(resolve: Resolver, host: str, port: int, wait: float) -> list[str]:
    """``resolve(host, port)``, or FetchError "timeout" after ``wait`` seconds.

    The resolver's own exceptions are raised here as they are.
    """
    slots = _pending_lookup_slots()
    if wait <= 0:
        raise FetchError("timeout", "tempo scaduto")
    if not slots.acquire(blocking=False):
        raise FetchError("timeout", f"{host}: troppe risoluzioni di nomi in corso")
    outcome: dict[str, Any] = {}
    finished = threading.Event()

    def look_up() -> None:
        try:
            outcome["addresses"] = list(resolve(host, port))
        except BaseException as error:  # handed to the waiting fetch
            outcome["error"] = error
        finally:
            slots.release()
            finished.set()

    threading.Thread(target=look_up, name="blog-dns", daemon=True).start()
    if not finished.wait(wait):
        raise FetchError("timeout", f"{host}: risoluzione del nome troppo lenta")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["addresses"]


@functools.lru_cache(maxsize=1)
def _default_ssl_context(pid: int) -> ssl.SSLContext:  # noqa: ARG001
    # Loading the system's CA certificates takes about 40 ms: once per process
    # (the pid is the cache key), not for every ping received or sent.
    return ssl.create_default_context()


def _pending_lookup_slots() -> threading.BoundedSemaphore:
    # Per process: a forked worker must not inherit its parent's count.
    global _lookup_slots
    if _lookup_slots is None or _lookup_slots[0] != os.getpid():
        _lookup_slots = (os.getpid(), threading.BoundedSemaphore(MAX_PENDING_LOOKUPS))
    return _lookup_slots[1]


def user_agent(config: Mapping[str, Any], requester_ip: str | None = None) -> str:
    """``nOwmedia/0.1.0 (+site URL)``, plus ``for <ip>`` when verifying a ping."""
    from .. import __version__

    name = str(config.get("SITE_NAME") or "blog").replace(" ", "-")
    agent = f"{name}/{__version__} (+{config.get('SITE_URL', '')}"
    if requester_ip:
        agent += f"; verifying a ping for {requester_ip}"
    return agent + ")"


def fetcher_for(
    config: Mapping[str, Any],
    requester_ip: str | None = None,
    resolver: Resolver | None = None,
) -> Fetcher:
    """The fetcher configured by the app's ``OUTBOUND_*`` settings."""
    only_allowed = config.get("OUTBOUND_ONLY_ALLOWED")
    if only_allowed is None:
        only_allowed = bool(config.get("TESTING"))
    return Fetcher(
        user_agent(config, requester_ip),
        allow=Allowlist.parse(config.get("OUTBOUND_ALLOW")),
        limits=limits_from_config(config),
        resolver=resolver or _configured_resolver(config),
        only_allowed=bool(only_allowed),
    )


def _config_key(limit: str) -> str:
    return "OUTBOUND_" + limit.upper()


def _parse_ports(value: Any) -> frozenset[int]:
    # "80,443" in a config file; the environment's JSON parsing turns
    # BLOG_OUTBOUND_PORTS=80 into 80 and "[80, 443]" into a list.
    if isinstance(value, str):
        value = [p for p in value.split(",") if p.strip()]
    elif isinstance(value, int):
        value = [value]
    return frozenset(int(p) for p in value)


def config_defaults() -> dict[str, object]:
    """The ``OUTBOUND_*`` limit keys with the defaults of ``Limits``."""
    values: dict[str, object] = {}
    for field in fields(Limits):
        value = field.default
        if isinstance(value, frozenset):
            value = ",".join(str(port) for port in sorted(value))
        values[_config_key(field.name)] = value
    return values


def limits_from_config(config: Mapping[str, Any]) -> Limits:
    """The limits set by the ``OUTBOUND_*`` keys; a key not set keeps its default."""
    values: dict[str, Any] = {}
    for field in fields(Limits):
        raw = config.get(_config_key(field.name))
        if raw is None:
            continue
        default = field.default
        if isinstance(default, frozenset):
            values[field.name] = _parse_ports(raw)
        else:
            values[field.name] = type(default)(raw)
    return Limits(**values)


def _configured_resolver(config: Mapping[str, Any]) -> Resolver | None:
    # Tests stub name resolution with a callable; any other value is ignored.
    resolver = config.get("OUTBOUND_RESOLVER")
    return resolver if callable(resolver) else None
