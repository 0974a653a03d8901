"""Who is signed in: the session holds the author's id, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for

from .extensions import db
from .models import Author


def current_author() -> Author | None:
    """The signed-in author for this request, or None (cached on ``g``)."""
    if "author" not in g:
        author_id = session.get("author_id")
        g.author = db.session.get(Author, author_id) if author_id else None
    return g.author


def sign_in(author: Author) -> None:
    """Start a fresh session for ``author`` (a new session, against fixation)."""
    session.clear()
    session["author_id"] = author.id
    session.permanent = True
    g.author = author


def sign_out() -> None:
    """End the author's session."""
    session.clear()
    g.author = None


def author_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the sign-in page, with a way back."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_author() is None:
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
