"""A rendered-page cache (post pages, the home page, feeds, 404s), kept exact by
a content version.

Cached pages are keyed by the content version (``version``: a new random value
with every commit that changes a page, read with the settings in the one query
a request already makes), so no reader ever sees a stale approved state, in any
worker. Only anonymous requests without personal state are cached; the parts
that differ per visitor (the CSRF token, the form's render stamp) are cached as
placeholders and filled in for each request.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from pathlib import Path

from flask import Flask, Request, Response, current_app, request

from ..core.markers import random_marker
from ..core.settings import SETTINGS, content_version
from ..core.urls import site_script_root

# Random for each process (the cache is per process too), so that no comment can
# contain them and collect each visitor's token when they are filled in.
CSRF_PLACEHOLDER = random_marker("csrf")
STAMP_PLACEHOLDER = random_marker("stamp")
# Cookies that make the page personal, set by ``comments.identity``: the owner
# token (held comments shown to their writer), the saved commenter details
# (pre-filled form).
OWNER_COOKIE = "comment_owner"
AUTHOR_COOKIE = "comment_author"
PERSONAL_COOKIES = (OWNER_COOKIE, AUTHOR_COOKIE)
# Pages also change with time (comments close after N days), so entries expire.
MAX_AGE_SECONDS = 300


_CSRF_SLOT, _STAMP_SLOT = CSRF_PLACEHOLDER.encode(), STAMP_PLACEHOLDER.encode()
_PLACEHOLDERS = re.compile(b"(" + _CSRF_SLOT + b"|" + _STAMP_SLOT + b")")


@dataclass(frozen=True)
class CachedPage:
    """A rendered page, kept encoded (once) and cut at its placeholders.

    ``pieces`` alternates text and placeholder: filling it in per request is one
    join, not a search through the page.
    """

    html: InitVar[str]
    post_id: int
    etag: str
    stored_at: float
    # When the page changes by itself (its post's comments close by age).
    changes_at: float | None = None
    pieces: tuple[bytes, ...] = field(init=False, repr=False)
    weight: int = field(init=False, repr=False)  # bytes

    def __post_init__(self, html: str) -> None:
        pieces = tuple(_PLACEHOLDERS.split(html.encode()))
        object.__setattr__(self, "pieces", pieces)
        object.__setattr__(self, "weight", sum(len(piece) for piece in pieces))

    @property
    def body(self) -> bytes:
        """The page as stored, placeholders and all (a page without a form)."""
        return b"".join(self.pieces)


class PageCache:
    """A small thread-safe LRU of rendered pages, one per worker process,
    bounded by pages and by bytes: one long thread makes a page of megabytes,
    and its reply forms, one per comment, would each keep another copy."""

    def __init__(self, size: int = 256, max_bytes: int = 64 << 20) -> None:
        self._entries: OrderedDict[tuple, CachedPage] = OrderedDict()
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._lock = threading.Lock()
        # The headers Flask sent with each page, which the middleware replays
        # (``pagecache.wsgi``); at most four times the pages, then it starts again.
        self.headers: dict[tuple, list[tuple[str, str]]] = {}

    def get(self, key: tuple, now: float) -> CachedPage | None:
        """The entry for ``key`` unless missing or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expired = now - entry.stored_at > MAX_AGE_SECONDS
            if expired or (entry.changes_at is not None and now >= entry.changes_at):
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def keep_headers(self, key: tuple, headers: list[tuple[str, str]]) -> None:
        """Keep the headers Flask sent with the page ``key``."""
        if len(self.headers) >= 4 * self.size:
            self.headers.clear()
        self.headers[key] = headers

    def put(self, key: tuple, entry: CachedPage) -> None:
        """Store ``entry``, dropping the least recently used beyond the size or
        the bytes (the newest entry stays, even alone over the bytes)."""
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self.bytes += entry.weight
            while len(self._entries) > 1 and (
                len(self._entries) > self.size or self.bytes > self.max_bytes
            ):
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple) -> None:
        self.bytes -= self._entries.pop(key).weight


# The query arguments a post page is made from: the no-JavaScript reply
# (``replytocom``, whose target Flask looks up) and the old comment-page
# address (``cpage``, moved to its own). Any other argument (a campaign's
# ``utm_source``, a social network's ``fbclid``, a cache-buster) shows the
# same page, so it gets the shared copy: a script adding a random argument to
# each request would otherwise have every page made afresh. (The home page's
# are ``page``, ``s`` and ``p``.)
POST_PAGE_ARGS = frozenset({"replytocom", "cpage"})


def is_cacheable(request: Request, signed_in: bool) -> bool:
    """Whether this request may get (and fill) a shared cached post page: the
    page, or its reply form for one comment (``replytocom``, in the key)."""
    # HEAD is GET without the body: the same validators, the same 304.
    if request.method not in ("GET", "HEAD") or signed_in:
        return False
    if request.script_root != site_script_root(current_app):
        return False
    if any(name in request.cookies for name in PERSONAL_COOKIES):
        return False
    return "cpage" not in request.args


# Keys whose first part is empty are everybody's: pages that show nothing of
# their visitor (no token, no form), shared with the signed-in author too. No
# post's slug is empty, so they meet no post page's key.
def home_page_key(page: int) -> tuple[str, int]:
    """The cache key of the home page's ``page``."""
    return ("", page)


def feed_key(path: str) -> tuple[str, str]:
    """The cache key of the feed at ``path`` (``/feed/``, ``/<slug>/feed/``...)."""
    return ("", path)


def is_everybodys(key: tuple) -> bool:
    """Whether the page ``key`` is one copy for every visitor."""
    return key[0] == ""


def make_etag(version: str, key: tuple, release: str = "") -> str:
    """A strong validator for the page ``key`` at ``version`` of the content and
    ``release`` of what renders it (``site_release``)."""
    return hashlib.sha256(repr((version, release, key)).encode()).hexdigest()[:32]


def timed_etag(etag: str, changes_at: float | None) -> str:
    """The ETag of a page that will change by itself at ``changes_at``: that
    moment is part of it, so a browser's copy of the open form is not confirmed
    once the post has closed (the closed page has the plain ``etag``)."""
    if changes_at is None:
        return etag
    return hashlib.sha256(f"{etag} {changes_at!r}".encode()).hexdigest()[:32]


def personal_etag(etag: str, csrf_secret: str) -> str:
    """The ETag of a page that carries the visitor's CSRF token: it names the
    token (by a hash of the session's secret), so a browser whose session
    ended (closed, its cookies cleared) gets the page with the new token, not
    a 304 that keeps a token no session holds any more."""
    if not csrf_secret:
        return etag
    return f"{etag}-{hashlib.sha256(csrf_secret.encode()).hexdigest()[:16]}"


# Config a page shows, beyond the stored settings' defaults (``SETTINGS``).
_RELEASE_CONFIG = (
    "POSTS_PER_PAGE",
    "FEED_ITEMS",
    "SITE_NAME",
    "SITE_TAGLINE",
    "SITE_URL",
    "TIMEZONE",
)


@functools.cache
def _code_digest() -> str:
    # The package's Python sources: a deploy that changes how a page or a feed
    # is made (feeds use no template) changes the release, version number or not;
    # and its static files, whose addresses carry the release (``versioned``).
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    sources = (
        path
        for pattern in ("*.py", "static/**/*")
        for path in root.rglob(pattern)
        if path.is_file() and not path.name.startswith(".")
    )
    for path in sorted(sources):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def site_release(app: Flask) -> str:
    """What a cached page depends on besides the content, and a restart may
    change: the code (its version and its sources), the config the pages show,
    the templates' sources. In every ETag, so a browser's copy from before a
    deploy is not confirmed by a 304 after it. The same in every worker;
    worked out once."""
    release = app.extensions.get("page_release")
    if release is None:
        from .. import __version__

        env = app.jinja_env
        names = (*_RELEASE_CONFIG, *(spec.config_key for spec in SETTINGS))
        parts = [__version__, _code_digest()]
        parts += [repr(app.config.get(name)) for name in names]
        parts += [
            env.loader.get_source(env, name)[0] for name in sorted(env.list_templates())
        ]
        release = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
        app.extensions["page_release"] = release
    return release


def versioned_static(endpoint: str, values: dict) -> None:
    """A static file's address names the release (``?v=``): a deploy's new CSS
    and JavaScript replace the copies browsers and nginx keep for days."""
    if endpoint == "static" and "v" not in values:
        values["v"] = site_release(current_app)[:10]


def personalise(
    entry: CachedPage, csrf_token: str, stamp: Callable[[int], str]
) -> bytes:
    """The cached page with this visitor's CSRF token and a fresh form stamp."""
    values = {
        _CSRF_SLOT: csrf_token.encode(),
        _STAMP_SLOT: stamp(entry.post_id).encode(),
    }
    pieces = list(entry.pieces)
    for index in range(1, len(pieces), 2):
        pieces[index] = values[pieces[index]]
    return b"".join(pieces)


def none_match(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match ``header`` names ``etag`` among its tags,
    compared weakly (RFC 9110): the browser's copy is current. "*" is not
    taken: it would answer 304 for a page before knowing the page exists."""
    if not header:
        return False
    tags = (tag.strip().removeprefix("W/") for tag in header.split(","))
    return f'"{etag}"' in tags


def finish_headers(etag: str) -> list[tuple[str, str]]:
    """Validators for a cacheable page: revalidate every time, never share."""
    return [("ETag", f'"{etag}"'), ("Cache-Control", "private, no-cache")]


def finish(response: Response, etag: str) -> Response:
    """Put the validators of ``finish_headers`` on a Flask response."""
    for name, value in finish_headers(etag):
        response.headers[name] = value
    return response


# The site's own feeds; any other is a post's.
SITE_FEEDS = frozenset({"/feed/", "/feed/atom/", "/comments/feed/"})


def is_side_page(key: tuple) -> bool:
    """Whether the page ``key`` is one a client can ask for by the hundred: a
    reply form (one per comment), a post's own feed (one per post), a later
    page of a post's comments or of the home page (a crawler walks them all)."""
    if len(key) > 2:
        return True
    if isinstance(key[1], int):
        return key[1] > 1
    return key[1] not in SITE_FEEDS


def page_cache_for(app: Flask, key: tuple) -> PageCache:
    """Where the page ``key`` is kept: the side pages in a small cache of their
    own, so that a crawler walking them never pushes out the post pages, the
    home page and the site's feeds."""
    return app.extensions["side_page_cache" if is_side_page(key) else "page_cache"]


def cached_page(
    key: tuple,
    make: Callable[[], tuple[str, int, float | None]],
    timed: bool = False,
    csrf_secret: str | None = None,
) -> tuple[str, CachedPage | None]:
    """The page ``key``'s ETag and its entry in the page cache, made (text, post
    id, when it changes by itself) on a miss; no entry when the browser's copy
    is current. ``timed``: a page that may change by itself (a post page);
    ``csrf_secret``: for a page that carries the visitor's token, the
    session's secret ("" for a visitor without one, whose copy is never
    current: it holds a token no session has)."""
    etag = make_etag(content_version(), key, site_release(current_app))
    asked = request.headers.get("If-None-Match") if csrf_secret != "" else None
    if not timed and none_match(asked, personal_etag(etag, csrf_secret or "")):
        return personal_etag(etag, csrf_secret or ""), None  # current, not made
    cache = page_cache_for(current_app, key)
    entry = cache.get(key + (etag,), time.time())
    if entry is None:
        # Made before the browser's copy is compared: whether the page is one
        # that changes by itself, and so its ETag, is known once it is made.
        text, post_id, changes_at = make()
        page_etag = timed_etag(etag, changes_at)
        entry = CachedPage(text, post_id, page_etag, time.time(), changes_at)
        cache.put(key + (etag,), entry)
    etag = personal_etag(entry.etag, csrf_secret or "")
    if none_match(asked, etag):
        return etag, None
    return etag, entry
