"""Authors' accounts: creation, password checks and sign-in throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import ratelimit
from ..auth import end_all_sessions
from ..extensions import db
from ..models import Author
from ..text import slugify

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
THROTTLED_MESSAGE = "Troppi tentativi, riprova più tardi."
# One message for a wrong password and for an unknown account alike.
INVALID_MESSAGE = "Nome utente o password non corretti."
MIN_PASSWORD_LENGTH = 8
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
            slug=free_author_slug(slugify(username) or "autore"),
            display_name=username,
        )
        db.session.add(author)
    author.password_hash = hash_password(password)
    return author


def free_author_slug(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``…: the first slug no author has."""
    taken = set(
        db.session.scalars(
            select(Author.slug).where(Author.slug.like(f"{base}%"))
        ).all()
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def find_author(username: str) -> Author | None:
    """The author with this username, case-insensitively."""
    return db.session.scalar(
        select(Author).where(func.lower(Author.username) == username.strip().lower())
    )


@dataclass(frozen=True)
class LoginResult:
    author: Author | None
    status_code: int = 200
    message: str = ""


def _buckets(username: str, ip: str) -> list[tuple[str, str]]:
    return [("login-account", username.strip().lower()), ("login-ip", ip)]


def authenticate(username: str, password: str, ip: str) -> LoginResult:
    """Check a sign-in attempt, throttled per account and per IP."""
    buckets = _buckets(username, ip)
    events = [ratelimit.record(bucket, key) for bucket, key in buckets]
    db.session.flush()
    event_ids = [event.id for event in events]
    # Committed before counting, so that parallel attempts count each other
    # (otherwise a burst of guesses would all see the same old count).
    db.session.commit()
    if any(
        ratelimit.count_recent(bucket, key, FAILURE_WINDOW) > MAX_FAILURES
        for bucket, key in buckets
    ):
        # A refused attempt tried no password, and counting it would keep the
        # lock on for as long as anybody kept knocking.
        ratelimit.withdraw(event_ids)
        return LoginResult(None, 429, THROTTLED_MESSAGE)
    author = find_author(username) if username.strip() else None
    stored = author.password_hash if author and author.password_hash else _dummy_hash()
    if check_password_hash(stored, password) and author is not None:
        for bucket, key in buckets:
            ratelimit.clear(bucket, key)
        return LoginResult(author)
    return LoginResult(None, 401, INVALID_MESSAGE)
