"""Public page views: parse the request, call a query, render."""

from __future__ import annotations

import time

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
)
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Select

from ..accounts.session import current_author
from ..comments.identity import form_stamp
from ..comments.page import comment_page_number, render_post_page
from ..core.settings import content_version
from ..core.text import positive_int
from ..extensions import db
from ..pagecache.cache import (
    CachedPage,
    finish,
    is_cacheable,
    make_etag,
    page_cache,
    personalise,
)
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
    if not is_cacheable(request, signed_in=current_author() is not None):
        post = get_published_post(slug) or abort(404)
        response = make_response(render_post_page(post))
        # This page may hold the visitor's held comment or saved details.
        response.headers["Cache-Control"] = "private, no-store"
        return response
    return _cached_detail(slug)


def _cached_detail(slug: str) -> Response:
    key = (slug, comment_page_number())
    etag = make_etag(content_version(), key)
    if etag in request.if_none_match:
        return finish(Response(status=304), etag)
    entry = page_cache().get(key + (etag,), time.time())
    if entry is None:
        post = get_published_post(slug) or abort(404)
        html, _ = render_post_page(post, cache_placeholders=True)  # always 200
        entry = CachedPage(html, post.id, etag, time.time())
        page_cache().put(key + (etag,), entry)
    html = personalise(entry, generate_csrf(), _fresh_stamp)
    return finish(Response(html, mimetype="text/html"), etag)


def _fresh_stamp(post_id: int) -> str:
    return form_stamp(post_id, time.time())
