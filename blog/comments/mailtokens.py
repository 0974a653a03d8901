"""Signed tokens carried by the links of our mails.

Each purpose has its own salt, so a token made for one page opens no other.
Confirming an address and moderating a response expire; the links that end a
subscription do not (a mail read months later must still unsubscribe).
A moderation token is single-use: its hash is stored once it has acted.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import delete

from ..core.text import MAX_ID
from ..extensions import db
from ..models import UsedToken
from ..web.security import signing_keys
from .subscriptions import ConfirmationRequest

CONFIRM_MAX_AGE = timedelta(days=7)
MODERATE_MAX_AGE = timedelta(days=7)
# Actions an author may take from the held notice without signing in.
MAIL_ACTIONS = ("approve", "spam", "trash")

EXPIRED_MESSAGE = "Il link è scaduto."
# What each expired link's reader can do instead (its page has no form).
EXPIRED_NEXT = {
    "confirm": "Vale sette giorni, e la richiesta di avvisi che confermava non "
    "è più valida: per ricevere gli avvisi, spunta di nuovo la casella sotto il "
    "modulo quando scrivi il prossimo commento.",
    "moderate": "Vale sette giorni: modera la risposta dalla coda dei commenti "
    "(/admin/).",
    "manage": "Vale due mesi: apri quello di un avviso più recente. Per non "
    "ricevere più gli avvisi di un articolo, il link «Non ricevere più avvisi» "
    "in fondo a ogni avviso vale sempre.",
    "data": "Vale un giorno: chiedine un altro dalla pagina «I tuoi dati» "
    "(/i-tuoi-dati/).",
}
# Each notice carries a new link to the subscriptions page: an old mail seen
# by another (forwarded, a shared mailbox) lists and ends them only so long.
MANAGE_MAX_AGE = timedelta(days=60)
# The link to a reader's data opens their IP addresses and every text they
# wrote: short-lived, unlike the links to their subscriptions.
DATA_MAX_AGE = timedelta(days=1)
USED_MESSAGE = "Questo link è già stato usato."
FORGED_MESSAGE = "Il link non è valido."


class TokenError(ValueError):
    """A token that opens nothing, with the Italian reason and the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _serializer(purpose: str, signed_at: int | None = None) -> URLSafeTimedSerializer:
    if signed_at is None:
        return URLSafeTimedSerializer(signing_keys(), salt=f"blog.mail.{purpose}")

    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return signed_at

    return URLSafeTimedSerializer(
        signing_keys(), salt=f"blog.mail.{purpose}", signer=SignedThen
    )


def _load(purpose: str, token: str, max_age: timedelta | None = None) -> object:
    try:
        return _serializer(purpose).loads(
            token, max_age=int(max_age.total_seconds()) if max_age else None
        )
    except SignatureExpired as error:
        raise TokenError(_expired(purpose), 410) from error
    except BadSignature as error:
        raise TokenError(FORGED_MESSAGE, 403) from error


def _expired(purpose: str) -> str:
    return f"{EXPIRED_MESSAGE} {EXPIRED_NEXT.get(purpose, '')}".strip()


def digest(token: str) -> str:
    """What is stored of a spent token: of its canonical spelling, since base64
    decoding ignores stray characters and the last character's spare bits, so
    one signed value has many spellings."""
    canonical = b".".join(base64_encode(base64_decode(p)) for p in token.split("."))
    return hashlib.sha256(canonical).hexdigest()


def confirm_token(request: ConfirmationRequest) -> str:
    """The link that confirms ``request`` (seven days)."""
    return _serializer("confirm").dumps(
        [request.email, request.subscription_id, request.asked_at]
    )


def read_confirm_token(token: str) -> ConfirmationRequest:
    """The request a confirmation token names (a token from before
    subscriptions were confirmed one by one names the address alone);
    TokenError otherwise."""
    value = _load("confirm", token, CONFIRM_MAX_AGE)
    if isinstance(value, str):
        return ConfirmationRequest(value)
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and type(value[1]) is int
        and isinstance(value[2], str)
    ):
        return ConfirmationRequest(*value)
    raise TokenError(FORGED_MESSAGE, 403)


def manage_token(email: str, signed_at: int | None = None) -> str:
    """The link to the page of ``email``'s subscriptions; dated ``signed_at``
    (a Unix time) when it stands in for a link sent then."""
    return _serializer("manage", signed_at).dumps(email)


def _read_address(purpose: str, token: str, max_age: timedelta | None = None) -> str:
    email = _load(purpose, token, max_age)
    if not isinstance(email, str):
        raise TokenError(FORGED_MESSAGE, 403)
    return email


def read_manage_token(token: str) -> str:
    """The address a subscriptions-page token names; TokenError if forged or
    older than two months."""
    return _read_address("manage", token, MANAGE_MAX_AGE)


def unsubscribe_token(email: str, post_id: int) -> str:
    """The one-click link (RFC 8058) that ends ``email``'s mail about a post."""
    return _serializer("unsubscribe").dumps([email, post_id])


def list_link_of_unsubscribe(email: str, token: str) -> str | None:
    """The link to ``email``'s subscriptions that the page of a one-click
    ``token`` (which never expires) may show: dated as the mail that carried
    it, so that it expires with the list link sent in that mail; None once it
    has (``MANAGE_MAX_AGE``)."""
    try:
        _, signed = _serializer("unsubscribe").loads(
            token,
            max_age=int(MANAGE_MAX_AGE.total_seconds()),
            return_timestamp=True,
        )
    except BadSignature:  # SignatureExpired included
        return None
    return manage_token(email, int(signed.timestamp()))


def read_unsubscribe_token(token: str) -> tuple[str, int]:
    """(email, post id) of a one-click token; TokenError otherwise."""
    value = _load("unsubscribe", token)
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        raise TokenError(FORGED_MESSAGE, 403)
    return value[0], value[1]


def data_token(email: str) -> str:
    """The link's token to what the blog keeps about ``email``."""
    return _serializer("data").dumps(email)


def read_data_token(token: str) -> str:
    """The address whose data ``token`` opens; TokenError if forged or older
    than a day."""
    return _read_address("data", token, DATA_MAX_AGE)


def moderation_token(comment_id: int, created_at: datetime, action: str) -> str:
    """The held notice's link that does ``action`` to one response (7 days).

    The response's creation time is signed with its id: SQLite gives the id of
    a response deleted for good to the next one stored, and a link from an old
    notice must not act on that one.
    """
    return _serializer("moderate").dumps([comment_id, action, created_at.isoformat()])


def read_moderation_token(token: str) -> tuple[int, str, str]:
    """(comment id, action, its creation time in ISO form) of an unspent,
    unexpired token; TokenError otherwise."""
    value = _load("moderate", token, MODERATE_MAX_AGE)
    if isinstance(value, list) and len(value) == 2:
        # Mailed before the creation time was signed: no longer safe to follow.
        raise TokenError(_expired("moderate"), 410)
    if not (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], int)
        and 0 < value[0] <= MAX_ID
        and value[1] in MAIL_ACTIONS
        and isinstance(value[2], str)
    ):
        raise TokenError(FORGED_MESSAGE, 403)
    if db.session.get(UsedToken, digest(token)) is not None:
        raise TokenError(USED_MESSAGE, 410)
    return value[0], value[1], value[2]


def forget_spent(now: datetime) -> int:
    """Delete the record of tokens spent before any of them could still be
    valid (the caller commits); how many."""
    result = db.session.execute(
        delete(UsedToken).where(UsedToken.used_at < now - MODERATE_MAX_AGE),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def spend(token: str) -> None:
    """Record ``token`` as used (the caller commits)."""
    db.session.add(UsedToken(digest=digest(token)))
