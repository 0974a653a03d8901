"""What the reader's browser keeps for us, always signed and HttpOnly.

Three signed values: the render time of the form (for the "too fast" rule), the
commenter's name, email and website (only with consent, to pre-fill the form)
and a random owner token (its hash on each comment proves, later, which
comments this browser wrote: the pending notice and the returning-commenter
rule rely on it; a typed name and email prove nothing).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from flask import Request, Response, current_app
from itsdangerous import BadSignature, Signer, URLSafeSerializer

from ..core.text import sha256_hex
from ..pagecache.cache import AUTHOR_COOKIE, OWNER_COOKIE
from ..pagecache.signing import (
    prederived_serializer,
    prederived_signer,
    sign_json,
    signed_value_serializer,
)
from ..web.security import signing_keys
from .moderation import FORGED_STAMP

COOKIE_MAX_AGE = 365 * 24 * 3600


def _serializer(purpose: str) -> URLSafeSerializer:
    # A form opened before a key change still counts.
    return _serializer_for(tuple(signing_keys()), purpose)


@lru_cache(maxsize=16)
def _serializer_for(keys: tuple[str | bytes, ...], purpose: str) -> URLSafeSerializer:
    return prederived_serializer(signed_value_serializer(list(keys), purpose))


@lru_cache(maxsize=16)
def _signer(key: str | bytes, purpose: str) -> Signer:
    return prederived_signer(signed_value_serializer(key, purpose))


def _dumps(purpose: str, value: object) -> str:
    # A short or random value (the owner token, the form's stamp), signed with
    # the current key derived once: as the serializer signs it, at a third of
    # its cost. Such values never gain by the serializer's compression.
    return sign_json(_signer(current_app.secret_key, purpose), value)


def _loads(purpose: str, value: str | None) -> object | None:
    if not value:
        return None
    try:
        return _serializer(purpose).loads(value)
    except BadSignature:
        return None


def form_stamp(post_id: int, now: float) -> str:
    """A signed record of when the form for ``post_id`` was rendered."""
    return _dumps("stamp", [post_id, int(now)])


def seconds_since_stamp(stamp: str | None, post_id: int, now: float) -> float:
    """Seconds between render and submission; ``FORGED_STAMP`` when the stamp
    is missing or forged: such a form was not rendered by us, and the
    moderation rules treat it as spam."""
    data = _loads("stamp", stamp)
    if not (isinstance(data, list) and len(data) == 2 and data[0] == post_id):
        return FORGED_STAMP
    return max(now - float(data[1]), 0.0)


@dataclass(frozen=True)
class Commenter:
    name: str = ""
    email: str = ""
    url: str = ""


def read_commenter(request: Request) -> Commenter | None:
    """The name, email and website saved with consent, if any."""
    data = _loads("author", request.cookies.get(AUTHOR_COOKIE))
    if not isinstance(data, dict):
        return None
    values = {key: data.get(key) for key in ("name", "email", "url")}
    if not all(isinstance(value, str) for value in values.values()):
        return None
    return Commenter(**values)


def _set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )


def remember_commenter(
    response: Response, request: Request, commenter: Commenter | None
) -> None:
    """Save the commenter's details, or forget them when consent is not given."""
    if commenter is None:
        if AUTHOR_COOKIE in request.cookies:
            response.delete_cookie(AUTHOR_COOKIE, httponly=True, samesite="Lax")
        return
    # Through the serializer, which compresses: a long name of emoji would
    # otherwise make a cookie past the 4 KB a browser keeps.
    value = _serializer("author").dumps(
        {"name": commenter.name, "email": commenter.email, "url": commenter.url}
    )
    _set_cookie(response, request, AUTHOR_COOKIE, value)


def owner_token(request: Request) -> str | None:
    """The random token this browser received with an earlier comment."""
    token = _loads("owner", request.cookies.get(OWNER_COOKIE))
    return token if isinstance(token, str) and len(token) >= 32 else None


def new_owner_token() -> str:
    """A fresh random owner token."""
    return secrets.token_urlsafe(32)


def give_owner_token(response: Response, request: Request, token: str) -> None:
    """Hand the owner token to the browser (signed, HttpOnly)."""
    _set_cookie(response, request, OWNER_COOKIE, _dumps("owner", token))


def token_hash(token: str | None) -> str:
    """What is stored on a comment in place of the token ('' for none)."""
    return sha256_hex(token) if token else ""
