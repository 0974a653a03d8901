"""Public page views: parse the request, call a query, render."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from ..accounts.session import current_author
from ..comments.identity import form_stamp
from ..comments.page import (
    asked_reply_target,
    comment_page_number,
    render_post_page,
    render_shared_post_page,
)
from ..core.settings import current_settings
from ..core.text import one_line, positive_int
from ..core.urls import local_path, site_script_root
from ..models import Category
from ..pagecache.cache import (
    cached_page,
    finish,
    home_page_key,
    is_cacheable,
    personal_etag,
    personalise,
)
from ..web.security import kept_private
from . import bp
from .listing import page_number, render_listing
from .oldqueries import moved_term, old_query_redirect
from .queries import (
    get_author,
    get_category,
    get_post_to_answer,
    get_published_post,
    posts_by_author,
    posts_in_category,
    published_posts,
    site_pages,
    term_moved,
)
from .search import render_search

# The public pages' menu of pages (``_macros.site_nav``).
bp.add_app_template_global(site_pages)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The home page: the latest posts, a search's results, or an old link moved."""
    moved = old_query_redirect(request.args)
    if moved is not None:
        return moved
    if "s" in request.args:
        # Echoed in the title, heading and field: one line, no controls.
        return render_search(one_line(request.args["s"]))
    if request.script_root != site_script_root(current_app):
        return render_listing("posts/index.html", published_posts())
    return _cached_home()


def _cached_home() -> Response:
    # The home page shows nothing of its visitor: one copy for everybody, kept
    # in the page cache, which answers it before Flask from then on.
    def make() -> tuple[str, int, None]:
        # Kept here, not also among the listings.
        html = render_listing("posts/index.html", published_posts(), kept=False)
        return html, 0, None

    etag, entry = cached_page(home_page_key(page_number()), make)
    if entry is None:
        return finish(Response(status=304), etag)
    return finish(Response(entry.body, mimetype="text/html"), etag)


@bp.get("/index.php")
@bp.get("/index.php/<path:rest>")
def index_php(rest: str = "") -> ResponseReturnValue:
    """WordPress's front controller in an address (``/index.php?p=N``, the
    PATHINFO permalinks ``/index.php/slug/``): the same address without it."""
    target = local_path(rest) or abort(404)
    query = request.query_string.decode("latin-1")
    return redirect(f"{target}?{query}" if query else target, 301)


@bp.get("/category/<slug>/")
def category(slug: str) -> ResponseReturnValue:
    """The posts filed under a category, page by page."""
    found = get_category(slug)
    if found is None:
        query = request.query_string.decode("latin-1")
        return moved_term("posts.category", term_moved(Category, slug), query)
    # An archive that holds no published post is a 404: a category made
    # by a draft must not announce the planned post.
    return render_listing(
        "posts/archive.html",
        posts_in_category(found.id),
        missing_if_empty=True,
        heading=found.name,
    )


@bp.get("/author/<slug>/")
def author(slug: str) -> str:
    """An author's posts, page by page, under their name."""
    found = get_author(slug) or abort(404)
    return render_listing(
        "posts/archive.html",
        posts_by_author(found.id),
        missing_if_empty=True,  # an account with nothing published: unnamed
        heading=found.display_name,
        author=found,
    )


@bp.get("/<name:slug>/")
@bp.get("/<name:slug>/comment-page-<int(min=1, max=999999):cpage>/")
def detail(slug: str, cpage: int | None = None) -> ResponseReturnValue:
    """A post's page: one page of its comments and the comment form."""
    # Comment pages have WordPress's address; ``?cpage=N`` and page 1 move there.
    if cpage == 1 or "cpage" in request.args:
        args = request.args.to_dict()
        asked = positive_int(args.pop("cpage", ""), 1_000_000)
        number = cpage or asked or 1  # the address's own page first
        url = url_for("posts.detail", slug=slug, cpage=number if number > 1 else None)
        # The other arguments go along as they came: as url_for's keywords, one
        # named "endpoint" or "_anchor" would be taken for its own.
        return redirect(f"{url}?{urlencode(args)}" if args else url, 301)
    if not is_cacheable(request, signed_in=current_author() is not None):
        post = get_published_post(slug) or abort(404)
        # This page may hold the visitor's held comment or saved details.
        return kept_private(make_response(render_post_page(post)))
    return _cached_detail(slug)


def _cached_detail(slug: str) -> Response:
    key: tuple = (slug, comment_page_number())
    if "replytocom" in request.args:
        # The no-JavaScript reply form: one copy per comment it may answer,
        # and one for every value naming none (a crawler follows each link).
        post = get_post_to_answer(slug) or abort(404)
        key += ("replytocom", asked_reply_target(post))

    def make() -> tuple[str, int, float | None]:
        post = get_published_post(slug) or abort(404)
        html, changes_at = render_shared_post_page(post)  # always 200
        return html, post.id, changes_at

    # Only an age limit makes a post page change by itself (``timed_etag``).
    timed = bool(current_settings().close_after_days)
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    secret = session.get(field) or ""  # a new visitor's comes with the page
    etag, entry = cached_page(key, make, timed=timed, csrf_secret=secret)
    if entry is None:
        response = finish(Response(status=304), etag)
        response.vary.add("Cookie")  # as on the page itself (RFC 9110)
        return response
    html = personalise(entry, generate_csrf(), _fresh_stamp)
    etag = personal_etag(entry.etag, session[field])
    return finish(Response(html, mimetype="text/html"), etag)


def _fresh_stamp(post_id: int) -> str:
    return form_stamp(post_id, time.time())
