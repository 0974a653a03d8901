"""Who is signed in: the session holds the author's id and session version.

A session counts only while its version is the author's current one, so raising
the version (``end_all_sessions``) signs out every browser at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for

from ..extensions import db
from ..models import Author

SESSION_AUTHOR = "author_id"
SESSION_VERSION = "session_version"


def current_author() -> Author | None:
    """The signed-in author for this request, or None (cached on ``g``)."""
    if "author" not in g:
        author_id = session.get(SESSION_AUTHOR)
        author = db.session.get(Author, author_id) if author_id else None
        # A session from before the last "sign out everywhere" or password
        # change (or from before versions existed) is a revoked one.
        if author is not None and session.get(SESSION_VERSION) != (
            author.session_version
        ):
            author = None
        g.author = author
    return g.author


def sign_in(author: Author) -> None:
    """Start a fresh session for ``author`` (a new session, against fixation)."""
    session.clear()
    session[SESSION_AUTHOR] = author.id
    session[SESSION_VERSION] = author.session_version
    session.permanent = True
    g.author = author


def sign_out() -> None:
    """End this browser's session only."""
    session.clear()
    g.author = None


def end_all_sessions(author: Author) -> None:
    """Revoke every session and device cookie of ``author`` (caller commits)."""
    # Raised in SQL, so two revocations at once both take effect.
    author.session_version = Author.session_version + 1


def author_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the sign-in page, with a way back."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_author() is None:
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
