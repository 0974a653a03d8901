"""Public page views: parse the request, call a query, render."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from sqlalchemy import Select

from ..comments.page import render_post_page
from ..extensions import db
from ..text import positive_int
from . import bp
from .queries import (
    count_approved_responses,
    get_author,
    get_category,
    get_published_post,
    posts_by_author,
    posts_in_category,
    published_posts,
)


def page_number() -> int:
    """The ``?page=`` argument, 1 when missing or not a sane number."""
    return positive_int(request.args.get("page"), 1_000_000) or 1


def _render_listing(template: str, query: Select, **context):
    page = page_number()
    pagination = db.paginate(
        query, page=page, per_page=current_app.config["POSTS_PER_PAGE"], error_out=False
    )
    if page > 1 and not pagination.items:
        abort(404)
    counts = count_approved_responses([post.id for post in pagination.items])
    return render_template(template, pagination=pagination, counts=counts, **context)


@bp.get("/")
def index():
    return _render_listing("posts/index.html", published_posts())


@bp.get("/category/<slug>/")
def category(slug: str):
    found = get_category(slug) or abort(404)
    return _render_listing(
        "posts/archive.html", posts_in_category(found.id), heading=found.name
    )


@bp.get("/author/<slug>/")
def author(slug: str):
    found = get_author(slug) or abort(404)
    return _render_listing(
        "posts/archive.html",
        posts_by_author(found.id),
        heading=found.display_name,
        author=found,
    )


@bp.get("/<slug>/")
def detail(slug: str):
    post = get_published_post(slug) or abort(404)
    return render_post_page(post)
