"""Who is signed in: the session names a sign-in the database still holds.

Each sign-in is a row (``SignIn``): signing out deletes this browser's, and
``end_all_sessions`` every one of the author's, so a copied session cookie ends
with the session it was copied from. A sign-in lasts PERMANENT_SESSION_LIFETIME
from the moment the password was given, however busy the session.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import delete, select

from ..core.text import sha256_hex
from ..extensions import db
from ..models import Author, SignIn, utcnow
from ..web.errors import render_error, typed_fields

SESSION_ENDED_MESSAGE = (
    "La sessione è terminata (per esempio con «Esci da tutti i dispositivi») "
    "prima che il modulo arrivasse: non è stato salvato nulla. Copia il testo, "
    "accedi di nuovo in un'altra scheda e invialo da lì."
)

SESSION_AUTHOR = "author_id"
SESSION_SIGN_IN = "sign_in"


def current_author() -> Author | None:
    """The signed-in author for this request, or None (cached on ``g``)."""
    if "author" not in g:
        g.author = _signed_in_author()
    return g.author


def _signed_in_author() -> Author | None:
    author_id, token = session.get(SESSION_AUTHOR), session.get(SESSION_SIGN_IN)
    if not author_id or not isinstance(token, str):
        return None  # nobody, or a session from before sign-ins were kept
    # One statement, the author with the sign-in: every admin page asks.
    return db.session.scalar(
        select(Author)
        .join(SignIn, SignIn.author_id == Author.id)
        .where(
            Author.id == author_id,
            SignIn.digest == sha256_hex(token),
            SignIn.session_version == Author.session_version,
            SignIn.created_at >= utcnow() - current_app.permanent_session_lifetime,
        )
    )


def new_sign_in(author: Author) -> dict[str, object]:
    """Record a sign-in of ``author`` (caller commits): the session values that
    name it. The author's expired sign-ins are dropped on the way."""
    oldest = utcnow() - current_app.permanent_session_lifetime
    db.session.execute(
        delete(SignIn).where(SignIn.author_id == author.id, SignIn.created_at < oldest)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        SignIn(
            digest=sha256_hex(token),
            author_id=author.id,
            session_version=author.session_version,
        )
    )
    return {SESSION_AUTHOR: author.id, SESSION_SIGN_IN: token}


def sign_in(author: Author) -> None:
    """Start a fresh session for ``author`` (a new session, against fixation;
    the caller commits)."""
    session.clear()
    session.update(new_sign_in(author))
    session.permanent = True
    g.author = author


def sign_out() -> None:
    """End this browser's session only (the caller commits)."""
    token = session.get(SESSION_SIGN_IN)
    if isinstance(token, str):
        db.session.execute(delete(SignIn).where(SignIn.digest == sha256_hex(token)))
    session.clear()
    g.author = None


def end_all_sessions(author: Author) -> None:
    """Revoke every session and device cookie of ``author`` (caller commits)."""
    db.session.execute(delete(SignIn).where(SignIn.author_id == author.id))
    # Device cookies carry the version: raised in SQL, so two revocations at
    # once both take effect.
    author.session_version = Author.session_version + 1


def author_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the sign-in page, with a way back; a form
    sent after the session ended, with text typed in it, gets its text back
    and a link to sign in: a redirect would lose a post being written."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_author() is None:
            sign_in = url_for("admin.login", next=_way_back())
            typed = typed_fields(current_app.config["WTF_CSRF_FIELD_NAME"])
            if request.method == "POST" and typed:
                return render_error(
                    403, SESSION_ENDED_MESSAGE, typed, ("Accedi di nuovo", sign_in)
                )
            return redirect(sign_in)
        return view(*args, **kwargs)

    return wrapped


def _way_back() -> str | None:
    """Where to go once signed in: the page asked for, or for a form sent
    after the session ended, the page the form was on (its own address takes
    POSTs only). The sign-in keeps only addresses of this site."""
    if request.method in ("GET", "HEAD"):
        return request.full_path
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # "http://[x/": a host no page of ours has
        return None
    if referrer.netloc != request.host or not referrer.path:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")
