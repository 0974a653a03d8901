"""The POST guard's small refusal pages, and the shells a feature's refusal page
is rendered into once per app and filled in for each refusal (``blank``,
``fill_blanks``): no template, no query per refusal.
"""

from __future__ import annotations

import re

from flask import Flask, Response
from flask.ctx import RequestContext
from markupsafe import escape

from ..core.markers import fill_markers
from ..core.urls import site_script_root
from .errors import bare_page
from .postguard import BUDGET_MESSAGE, Refusal, RefusedPost


def small_refusal(message: str = BUDGET_MESSAGE) -> Refusal:
    """A refusal that answers ``limited_page``: ``message`` over the budget,
    BUSY_MESSAGE when every write slot is taken."""

    def refuse(app: Flask, refused: RefusedPost) -> Response:
        return limited_page(refused.message(message), refused.status)

    return refuse


def blank(name: str) -> str:
    """A place in a refusal page rendered once per app (a shell), filled in for
    each refusal with ``fill_blanks``: no template, no query per refusal."""
    # Letters and dashes only: HTML escaping leaves a blank as it is.
    return f"refusal-blank-{name.replace('_', '-')}"


# Greedy, so that "comment-parent" is one blank, not "comment" and a tail.
_BLANKS = re.compile(r"refusal-blank-[a-z-]+")


def fill_blanks(shell: str, values: dict[str, str]) -> str:
    """``shell`` with each blank's value, escaped, in one pass: a typed text that
    names a blank stays as typed."""

    # Text of the shell's own that only looks like a blank stays as it is;
    # a NUL typed as "%00" has no place in a page.
    escaped = {
        name: str(escape(found.replace("\0", ""))) for name, found in values.items()
    }
    return fill_markers(shell, _BLANKS, escaped)


def shell_request(app: Flask, path: str = "/", method: str = "GET") -> RequestContext:
    """A request context to render a refusal shell in: under the site's root
    (SITE_URL's path), as the requests it will answer, so its links hold it."""
    root = site_script_root(app)
    return app.test_request_context(
        path, method=method, base_url=f"http://localhost{root}/"
    )


def limited_page(message: str, status: int = 429) -> Response:
    """A small Italian refusal page that needs no database."""
    title = "Servizio non disponibile" if status == 503 else "Troppe richieste"
    return bare_page(title, message, status)
