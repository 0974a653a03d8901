"""A page of posts: the home page, the archives and the search results."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from sqlalchemy import Select

from ..core.memo import kept_for_version
from ..core.settings import content_version
from ..core.text import listing_page
from ..extensions import db
from .queries import count_approved_responses


def page_number() -> int:
    """The ``?page=`` argument, 1 when missing or not a sane number."""
    return listing_page(request.args.get("page"))


# What this module keeps per content version (``blog.core.memo``): a listing
# shows nothing of its visitor, so it stands as long as the content does (the
# home page was made afresh for every request, 4 ms a flood could ask for at
# will). Each listing page is a key: at most this many, then it starts again.
_KEPT = "posts.listing_pages"
_KEPT_PAGES = 200


def render_listing(
    template: str,
    posts: Select,
    *,
    missing_if_empty: bool = False,
    kept: bool = True,
    **context: object,
) -> str:
    """Render one page of ``posts`` with their response counts.

    ``missing_if_empty``: an archive that holds nothing is a 404 (a date).
    ``kept``: the page is kept with the content version (not a search's: each
    query would be a key).
    """

    def render() -> str:
        page = page_number()
        pagination = db.paginate(
            posts,
            page=page,
            per_page=current_app.config["POSTS_PER_PAGE"],
            error_out=False,
        )
        if (page > 1 or missing_if_empty) and not pagination.items:
            abort(404)
        counts = count_approved_responses([post.id for post in pagination.items])
        return render_template(
            template, pagination=pagination, counts=counts, **context
        )

    if not kept:
        return render()
    return kept_for_version(
        _KEPT, content_version(), listing_key(), render, _KEPT_PAGES
    )


def listing_key() -> tuple[object, ...]:
    """What a listing page is made from: where, which one, which page, how long."""
    return (
        request.script_root,
        request.endpoint,
        tuple(sorted((request.view_args or {}).items())),
        page_number(),
        current_app.config["POSTS_PER_PAGE"],
    )
