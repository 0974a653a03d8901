"""Authors' accounts: creation, password checks, sign-in throttling, device cookies."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from sqlalchemy import literal, select
from werkzeug.http import parse_cookie
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.text import slugify
from ..database import free_slug, lowercase
from ..extensions import db, limiter
from ..models import Author
from ..web.dbstore import DatabaseStorage
from ..web.localstore import LocalStorage
from ..web.ratelimit import budget_key
from ..web.security import signing_keys
from .session import end_all_sessions

MAX_FAILURES = 5
# Storages each worker process keeps to itself.
PER_PROCESS_STORAGES = (LocalStorage, MemoryStorage)
FAILURE_WINDOW = timedelta(minutes=15)
THROTTLED_MESSAGE = "Troppi tentativi, riprova più tardi."
# One message for a wrong password and for an unknown account alike.
INVALID_MESSAGE = "Nome utente o password non corretti."
MIN_PASSWORD_LENGTH = 8
# Given to a browser on each sign-in (OWASP's "device cookies"): attempts that
# carry it are throttled on their own, so nobody else can lock the author out.
DEVICE_COOKIE = "author_device"
DEVICE_COOKIE_SALT = "blog.admin.device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
# Checked against when the account does not exist, so both cases cost the same;
# one per hashing method.
_DUMMY_HASHES: dict[str, str] = {}


class AccountError(ValueError):
    """A reason, in Italian, why an account cannot be created as asked."""


def _method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"


def hash_password(password: str) -> str:
    """The stored form of ``password`` (salted; scrypt unless configured)."""
    return generate_password_hash(password, method=_method())


def _dummy_hash() -> str:
    method = _method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY_HASHES[method]


def create_author(username: str, password: str) -> Author:
    """A new author, or the old one with a new password, signed out (caller commits)."""
    username = username.strip()
    if not username or len(username) > 60:
        raise AccountError("Il nome utente deve avere da 1 a 60 caratteri.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri."
        )
    author = find_author(username)
    if author is not None:
        # A new password is the usual answer to a leak: old sessions end with it.
        end_all_sessions(author)
    else:
        author = Author(
            username=username,
            slug=free_slug(Author.slug, slugify(username) or "autore"),
            display_name=username,
        )
        db.session.add(author)
    author.password_hash = hash_password(password)
    return author


def find_author(username: str) -> Author | None:
    """The author with this username, case-insensitively."""
    return db.session.scalar(
        # Both sides lowered by the database: PostgreSQL's lower() and Python's
        # differ on some letters (a final sigma, a dotted capital I).
        select(Author).where(
            lowercase(Author.username) == lowercase(literal(username.strip()))
        )
    )


@dataclass(frozen=True)
class LoginResult:
    author: Author | None
    status_code: int = 200
    message: str = ""
    # On success: a fresh device cookie value for this browser.
    device_cookie: str = ""
    # When locked out: seconds until the lock ends (Retry-After).
    retry_after: int | None = None


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_keys(), salt=DEVICE_COOKIE_SALT)


def new_device_cookie(author: Author) -> str:
    """A signed device cookie naming ``author`` at their current session version."""
    return _device_serializer().dumps(
        {
            "author": author.id,
            "username": author.username.lower(),
            "version": author.session_version,
            "nonce": secrets.token_urlsafe(16),
        }
    )


def trusted_device(cookie: str | None, author: Author | None) -> str | None:
    """The nonce of ``cookie`` if it is ``author``'s genuine, current device cookie."""
    if not cookie or author is None:
        return None
    data = _device_claims(cookie)
    if data is None:
        return None
    # The version ties the cookie to the sessions of its day: signing out
    # everywhere or a new password takes the allowance back too.
    named = (data.get("author"), data.get("username"), data.get("version"))
    if named != (author.id, author.username.lower(), author.session_version):
        return None
    nonce = data.get("nonce")
    return nonce if isinstance(nonce, str) and nonce else None


def from_known_browser(app: Flask, environ: dict) -> bool:
    """Whether a request, read before Flask, carries a device cookie this blog
    signed: a browser an author signed in with before. Such a sign-in takes no
    write slot, so a flood of comments never keeps the author out. Only the
    signature is read here, without a query; the password and the lock-out
    (``trusted_device``) still decide."""
    try:
        cookie = parse_cookie(environ).get(DEVICE_COOKIE)
    except UnicodeError:  # bytes no browser of ours sent
        return False
    if not cookie:
        return False
    with app.app_context():
        return _device_claims(cookie) is not None


def _device_claims(cookie: str) -> dict | None:
    """What a device cookie this blog signed says, within its year; None for
    any other value."""
    try:
        data = _device_serializer().loads(cookie, max_age=DEVICE_COOKIE_MAX_AGE)
    except BadData:
        return None
    return data if isinstance(data, dict) else None


def device_cookie_flags(https_request: bool) -> dict[str, object]:
    """``set_cookie`` options of the device cookie (its path is the view's)."""
    return {
        "max_age": DEVICE_COOKIE_MAX_AGE,
        "httponly": True,
        "samesite": "Strict",
        "secure": https_request or bool(current_app.config["SESSION_COOKIE_SECURE"]),
    }


def _buckets(username: str, ip: str, device: str | None) -> list[tuple[str, str]]:
    if device is not None:
        # A browser the author signed in with has its own allowance, so
        # guesses from elsewhere (per account, per address) never lock it out.
        return [("login-device", device)]
    # As the POST budget counts: an IPv6 client holds its whole /64.
    return [("login-account", username.strip().lower()), ("login-ip", budget_key(ip))]


def failure_limit(bucket: str) -> RateLimitItem:
    """MAX_FAILURES attempts per FAILURE_WINDOW, counted apart for each bucket."""
    seconds = int(FAILURE_WINDOW.total_seconds())
    return RateLimitItemPerSecond(MAX_FAILURES, seconds, namespace=bucket)


_shared_counter: FixedWindowRateLimiter | None = None


def failure_counter() -> RateLimiter:
    """Where sign-in failures are counted: the limiter's storage when every
    worker shares it (Redis, Memcached) and it answers, else the database
    (``web.dbstore``), so that five failures are five whatever the number of
    workers, and an outage of the shared storage does not lock the author out
    (the count starts again in the database meanwhile)."""
    global _shared_counter
    storage = limiter.limiter.storage
    if not isinstance(storage, PER_PROCESS_STORAGES) and storage.check():
        return limiter.limiter
    if _shared_counter is None:
        _shared_counter = FixedWindowRateLimiter(DatabaseStorage())
    return _shared_counter


def _locked_out(
    counter: RateLimiter, locked: list[tuple[RateLimitItem, str]]
) -> LoginResult:
    ends = max(counter.get_window_stats(limit, key).reset_time for limit, key in locked)
    wait = max(1, int(ends - time.time()) + 1)
    return LoginResult(None, 429, THROTTLED_MESSAGE, retry_after=wait)


def authenticate(
    username: str, password: str, ip: str, device_cookie: str | None = None
) -> LoginResult:
    """Check a sign-in attempt, throttled per trusted device, or per account and IP."""
    author = find_author(username) if username.strip() else None
    buckets = [
        (failure_limit(bucket), key[:300])
        for bucket, key in _buckets(username, ip, trusted_device(device_cookie, author))
    ]
    counter = failure_counter()
    # Tested first, not hit: a refused attempt tries no password, and the
    # failures of the window stay the ones that did.
    locked = [(limit, key) for limit, key in buckets if not counter.test(limit, key)]
    if not locked:
        # The hit decides: attempts that all passed the test at the same moment
        # (a burst on several workers) get five passwords checked, not one each.
        locked = [(limit, key) for limit, key in buckets if not counter.hit(limit, key)]
    if locked:
        return _locked_out(counter, locked)
    stored = author.password_hash if author and author.password_hash else _dummy_hash()
    if check_password_hash(stored, password) and author is not None:
        for limit, key in buckets:
            counter.clear(limit, key)
        return LoginResult(author, device_cookie=new_device_cookie(author))
    return LoginResult(None, 401, INVALID_MESSAGE)
