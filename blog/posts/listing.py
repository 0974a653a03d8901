"""A page of posts: the home page, the archives and the search results."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from sqlalchemy import Select

from ..core.text import positive_int
from ..extensions import db
from .queries import count_approved_responses


def page_number() -> int:
    """The ``?page=`` argument, 1 when missing or not a sane number."""
    return positive_int(request.args.get("page"), 1_000_000) or 1


def render_listing(
    template: str, posts: Select, *, missing_if_empty: bool = False, **context
):
    """Render one page of ``posts`` with their response counts.

    ``missing_if_empty``: an archive that holds nothing is a 404 (a date).
    """
    page = page_number()
    pagination = db.paginate(
        posts, page=page, per_page=current_app.config["POSTS_PER_PAGE"], error_out=False
    )
    if (page > 1 or missing_if_empty) and not pagination.items:
        abort(404)
    counts = count_approved_responses([post.id for post in pagination.items])
    return render_template(template, pagination=pagination, counts=counts, **context)
