"""Serves cached post pages before Flask runs, for anonymous readers.

A cache hit costs one small SQL query (the content version, on one of the few
database connections each worker keeps for that one read) and at most three HMACs
(the session cookie, the CSRF token, the form stamp, each with its key derived
once) instead of a full Flask request. Anything unusual is passed to Flask,
which renders, fills the cache and stays the reference: the headers replayed
here are the ones Flask sent for the same page and version, and the tokens are
ones Flask's session and Flask-WTF read back (``signing``).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from flask import Flask
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.http import dump_cookie
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.http import parse_cookie
from werkzeug.wsgi import get_host

from ..core.settings import VERSION_READ, VERSION_READER
from ..core.text import listing_page
from ..core.urls import site_script_root
from ..extensions import db
from .cache import (
    PERSONAL_COOKIES,
    POST_PAGE_ARGS,
    CachedPage,
    PageCache,
    feed_key,
    finish_headers,
    home_page_key,
    is_everybodys,
    make_etag,
    none_match,
    page_cache_for,
    personal_etag,
    personalise,
    site_release,
)
from .signing import prederived_signer, sign_json, signed_value_serializer
from .versionread import ContentVersionReader

# A post page and its comment pages (page 1 has no ``comment-page-1`` form).
_POST_PATH = re.compile(
    r"/([A-Za-z0-9_-]{1,200})/(?:comment-page-([2-9]|[1-9][0-9]{1,5})/)?"
)
# The feeds: the posts' (RSS and Atom), the comments', a post's responses'.
_FEED_PATH = re.compile(r"/feed/(?:atom/)?|/[A-Za-z0-9_-]{1,200}/feed/")
_SKIPPED_HEADERS = {
    "set-cookie",
    "content-length",
    "date",
    "etag",
    "vary",
    "cache-control",
}
_COOKIE_VALUE_SLOT = "cookie-value-slot"
# The views whose 404 only the content decides (no such post, archive, category,
# tag or author): kept, like an address no view answers, which only the old
# addresses of imported posts may move. The others (a mail link's token, a
# webmention's status) depend on rows no content version follows.
_KEPT_MISSING_ENDPOINTS = frozenset(
    {
        "posts.detail",
        "posts.year_archive",
        "posts.month_archive",
        "posts.category",
        "posts.tag",
        "posts.author",
        "feeds.post_responses",
        "feeds.listing_rss",
        "feeds.listing_atom",
    }
)
# Longer addresses are answered by Flask each time, never kept.
_LONGEST_KEPT_MISSING = 300


class CachedPageMiddleware:
    """WSGI middleware: answer cache hits, learn headers from Flask's answers."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._script_root = site_script_root(app)
        with app.app_context():
            self._versions = ContentVersionReader(db.engine)
        # The settings are kept with the version this reads (blog.core.settings).
        app.extensions[VERSION_READER] = self._versions
        # Built once: the secret key and the session settings do not change.
        session_serializer = app.session_interface.get_signing_serializer(app)
        self._session_serializer = session_serializer
        self._session_signer = prederived_signer(session_serializer)
        self._session_lifetime = int(app.permanent_session_lifetime.total_seconds())
        self._cookie_name = app.config["SESSION_COOKIE_NAME"]
        self._cookie_parts = _cookie_parts(app)
        self._csrf_field = app.config["WTF_CSRF_FIELD_NAME"]
        csrf_secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        self._csrf_signer = prederived_signer(  # Flask-WTF's salt (not exported)
            URLSafeTimedSerializer(csrf_secret, salt="wtf-csrf-token")
        )
        self._stamp_signer = prederived_signer(
            signed_value_serializer(app.secret_key, "stamp")
        )
        self._stamp_memo: tuple[int, int, str] = (0, 0, "")
        self._proxies = int(app.config.get("PROXY_FIX") or 0)
        self._hosts: dict[tuple, bool] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = self._cache_key(environ)
        if key is None:
            return self._missing_or_flask(environ, start_response)
        if not self._host_is_readable(environ):
            return self.wsgi_app(environ, start_response)
        # The home page and the feeds show nothing of their visitor: no
        # session, no token.
        everybodys = is_everybodys(key)
        session = {} if everybodys else self._session(environ)
        if session is None:
            return self.wsgi_app(environ, start_response)
        version = self._versions.read()
        if version is None:
            return self.wsgi_app(environ, start_response)
        environ[VERSION_READ] = version  # Flask's settings need not read it again
        etag = make_etag(version, key, site_release(self.app))
        cache = page_cache_for(self.app, key)
        entry = cache.get(key + (etag,), time.time())
        headers = cache.headers.get(key + (etag,))
        if entry is None or headers is None:
            return self._learn(environ, start_response, cache, key, etag, version)
        if everybodys:
            extra = list(finish_headers(entry.etag))
            if none_match(environ.get("HTTP_IF_NONE_MATCH"), entry.etag):
                start_response("304 NOT MODIFIED", headers + extra)
                return []
            body = entry.body
        else:
            secret, cookie = self._csrf_secret(session)
            page_etag = personal_etag(entry.etag, secret)
            # Vary as on the page Flask makes (RFC 9110).
            extra = [*finish_headers(page_etag), ("Vary", "Cookie")]
            if none_match(environ.get("HTTP_IF_NONE_MATCH"), page_etag):
                start_response("304 NOT MODIFIED", headers + extra)
                return []
            if cookie:
                extra.append(("Set-Cookie", cookie))
            csrf_token = sign_json(self._csrf_signer, secret)
            body = personalise(entry, csrf_token, self._stamp)
        extra.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers + extra)
        return [body]

    def _cache_key(self, environ: dict) -> tuple | None:
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        if environ.get("SCRIPT_NAME", "") != self._script_root:
            return None
        path = environ.get("PATH_INFO", "")
        post = None
        if path != "/" and not _FEED_PATH.fullmatch(path):
            post = _POST_PATH.fullmatch(path)
            if post is None:
                return None
        args = _query_args(environ.get("QUERY_STRING", ""))
        if args is None:
            return None
        if post is not None:
            if not POST_PAGE_ARGS.isdisjoint(args):
                return None
            return (post.group(1), int(post.group(2) or 1))
        if path != "/":  # a feed reads no argument
            return feed_key(path)
        # A search, an old address (posts.oldpaths.ID_QUERIES, posts.oldqueries'
        # SLUG_QUERIES), an old feed address (?feed=rss2): Flask's.
        if any(name in args for name in _FLASKS_HOME_ARGS):
            return None
        return home_page_key(listing_page(args.get("page")))

    def _host_is_readable(self, environ: dict) -> bool:
        """Whether Flask would take this request's host (else it answers 400):
        worked out once per host a worker sees."""
        forwarded = environ.get("HTTP_X_FORWARDED_HOST") if self._proxies else None
        key = (environ.get("HTTP_HOST"), environ.get("SERVER_NAME"), forwarded)
        readable = self._hosts.get(key)
        if readable is None:
            readable = self._read_host(environ)
            if len(self._hosts) >= 64:  # a client making up hosts
                self._hosts.clear()
            self._hosts[key] = readable
        return readable

    def _read_host(self, environ: dict) -> bool:
        # As Flask reads it: after ProxyFix (inside this middleware), among
        # TRUSTED_HOSTS, and a name the URL map can be bound to (valid IDNA).
        seen = [environ]
        if self._proxies:
            fix = ProxyFix(
                lambda env, start: seen.append(env) or [],
                x_for=self._proxies,
                x_proto=self._proxies,
                x_host=self._proxies,
            )
            fix(dict(environ), None)
        config = self.app.config
        try:
            get_host(seen[-1], config.get("TRUSTED_HOSTS"))
            self.app.url_map.bind_to_environ(
                seen[-1], server_name=config.get("SERVER_NAME")
            )
        except HTTPException:
            return False
        return True

    def _session(self, environ: dict) -> dict | None:
        """The visitor's session when it holds nothing but a CSRF token."""
        if "HTTP_COOKIE" not in environ:
            return {}
        # The header's text, as Flask's request reads it (werkzeug.http's
        # parse_cookie decodes it as UTF-8 first, and fails on a byte 0xff).
        cookies = parse_cookie(environ["HTTP_COOKIE"])
        if any(name in cookies for name in PERSONAL_COOKIES):
            return None
        if self._cookie_name not in cookies:
            return {}
        try:
            payload = self._session_signer.unsign(
                cookies[self._cookie_name], max_age=self._session_lifetime
            )
            data = self._session_serializer.load_payload(payload)
        except BadData:
            # Expired, forged, or signed with an older key (SECRET_KEY_FALLBACKS):
            # Flask knows what to do with it.
            return None
        if isinstance(data, dict) and set(data) <= {self._csrf_field}:
            return data
        return None

    def _stamp(self, post_id: int) -> str:
        """The comment form's render stamp; one signature per post per second."""
        now = int(time.time())
        memo_post, memo_time, value = self._stamp_memo
        if (memo_post, memo_time) != (post_id, now):
            value = sign_json(self._stamp_signer, [post_id, now])
            self._stamp_memo = (post_id, now, value)
        return value

    def _csrf_secret(self, session: dict) -> tuple[str, str | None]:
        """This visitor's CSRF secret (signed, it is the form's token), and a
        session cookie when it is new."""
        cookie = None
        raw = session.get(self._csrf_field)
        if not isinstance(raw, str) or not raw:
            # As Flask-WTF's generate_csrf: a random token kept in the session.
            raw = hashlib.sha1(os.urandom(64)).hexdigest()
            value = sign_json(self._session_signer, {self._csrf_field: raw})
            cookie = value.join(self._cookie_parts)
        return raw, cookie

    def _learn(
        self,
        environ: dict,
        start_response: Callable,
        cache: PageCache,
        key: tuple,
        etag: str,
        version: str,
    ) -> Iterable[bytes]:
        """Pass to Flask; keep the headers of a cached-page answer for this etag,
        beside the page in its cache (or a 404 answer in the missing pages)."""

        def capture(status: str, headers: list, exc_info=None):
            if not status.startswith("200"):
                return start_response(status, headers, exc_info)
            sent = dict((name.lower(), value) for name, value in headers)
            # The page Flask just made (or found) for this version, whose ETag
            # may carry when it changes by itself (``timed_etag``).
            entry = cache.get(key + (etag,), time.time())
            # (A page with the visitor's token has it named after the ETag.)
            if entry is not None and sent.get("etag", "").startswith(f'"{entry.etag}'):
                kept = [(n, v) for n, v in headers if n.lower() not in _SKIPPED_HEADERS]
                cache.keep_headers(key + (etag,), kept)
            return start_response(status, headers, exc_info)

        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING") or len(path) > _LONGEST_KEPT_MISSING:
            return self.wsgi_app(environ, capture)
        return self._missing(environ, capture, path, version)

    def _missing_or_flask(
        self, environ: dict, start_response: Callable
    ) -> Iterable[bytes]:
        """A request no cached page answers: its kept 404 if it has one, else
        Flask's answer."""
        path = self._missing_path(environ)
        if (
            path is None
            or not self._host_is_readable(environ)
            or self._session(environ) is None
        ):
            return self.wsgi_app(environ, start_response)
        version = self._versions.read()
        if version is None:
            return self.wsgi_app(environ, start_response)
        environ[VERSION_READ] = version  # Flask's settings need not read it again
        return self._missing(environ, start_response, path, version)

    def _missing_path(self, environ: dict) -> str | None:
        """The path of a GET whose 404 may be kept: asked without a query, and
        answered by no view or by one whose 404 only the content decides."""
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or environ.get("SCRIPT_NAME", "") != self._script_root
            or len(path) > _LONGEST_KEPT_MISSING
        ):
            return None
        try:
            adapter = self.app.url_map.bind_to_environ(environ)
            endpoint, _ = adapter.match(method="GET")
        except NotFound:
            return path  # only an old address of an imported post may answer it
        except HTTPException:  # a redirect to the trailing slash, a POST-only view
            return None
        return path if endpoint in _KEPT_MISSING_ENDPOINTS else None

    def _missing(
        self, environ: dict, start_response: Callable, path: str, version: str
    ) -> Iterable[bytes]:
        """The 404 kept for ``path`` at ``version``; else Flask's answer, kept
        when it is a 404 that sets no cookie (the same page for everybody)."""
        cache = self.app.extensions["missing_page_cache"]
        key = (path, make_etag(version, ("404", path), site_release(self.app)))
        entry = cache.get(key, time.time())
        headers = cache.headers.get(key)
        if entry is not None and headers is not None:
            start_response("404 NOT FOUND", headers)
            return entry.pieces
        answer: list[tuple[str, list]] = []

        def capture(status: str, headers: list, exc_info=None):
            answer.append((status, headers))
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        status, headers = answer[-1] if answer else ("", [])
        if not status.startswith("404") or any(
            name.lower() == "set-cookie" for name, _ in headers
        ):
            return body
        try:
            text = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        cache.put(key, CachedPage(text.decode(), 0, key[1], time.time()))
        cache.keep_headers(key, headers)
        return [text]


_FLASKS_HOME_ARGS = (
    "s",
    "p",
    "page_id",
    "attachment_id",
    "feed",
    "name",
    "pagename",
    "tag",
    "paged",
    "m",
)


def _query_args(query: str) -> dict[str, str] | None:
    """The query's arguments, each name with its first value, decoded as
    Flask's ``request.args``; None when Flask must see it (a NUL, which it
    refuses, or bytes that are not UTF-8)."""
    if not query:
        return {}
    try:
        text = query.encode("latin-1").decode()
    except UnicodeError:
        return None
    args: dict[str, str] = {}
    for name, value in parse_qsl(
        text, keep_blank_values=True, errors="werkzeug.url_quote"
    ):
        if "\0" in name or "\0" in value:
            return None
        args.setdefault(name, value)
    return args


def _cookie_parts(app: Flask) -> tuple[str, str]:
    """The session cookie's Set-Cookie value, before and after the value.

    Written once by werkzeug with the app's cookie settings; the signed value,
    made of URL-safe characters and dots only, needs no quoting to go between.
    """
    interface = app.session_interface
    header = dump_cookie(
        interface.get_cookie_name(app),
        _COOKIE_VALUE_SLOT,
        domain=interface.get_cookie_domain(app),
        path=interface.get_cookie_path(app),
        secure=interface.get_cookie_secure(app),
        httponly=interface.get_cookie_httponly(app),
        samesite=interface.get_cookie_samesite(app),
        partitioned=interface.get_cookie_partitioned(app),
    )
    before, after = header.split(_COOKIE_VALUE_SLOT)
    return before, after
