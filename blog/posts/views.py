"""Public page views: parse the request, call a query, render."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    request,
    url_for,
)
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
from ..core.text import listing_page, one_line, positive_int, row_id
from ..core.urls import local_path, site_script_root
from ..pagecache.cache import (
    cached_page,
    finish,
    home_page_key,
    is_cacheable,
    personalise,
)
from ..web.security import kept_private
from . import bp
from .listing import page_number, render_listing
from .oldpaths import ID_QUERIES, OldTarget, numbered_target
from .queries import (
    get_author,
    get_category,
    get_post_to_answer,
    get_published_post,
    posts_by_author,
    posts_in_category,
    published_posts,
    site_pages,
)
from .search import render_search

# The public pages' menu of pages (``_macros.site_nav``).
bp.add_app_template_global(site_pages)


# WordPress's plain addresses that name a post, a page or a tag by its slug.
SLUG_QUERIES = ("name", "pagename", "tag")


@bp.get("/")
def index():
    for name in ID_QUERIES:
        if name in request.args:
            return _moved_by_id(name, request.args[name])
    for name in SLUG_QUERIES:
        if name in request.args:
            return _moved_by_slug(name, request.args[name])
    if "feed" in request.args:
        return _moved_feed(request.args["feed"])
    if "m" in request.args:
        return _moved_archive(request.args["m"], request.args.get("paged"))
    if "paged" in request.args:
        # WordPress's page number, of the listing or of a search (``s`` kept).
        page = listing_page(request.args["paged"])
        kept = {"s": request.args["s"]} if "s" in request.args else {}
        moved = url_for("posts.index", page=page if page > 1 else None, **kept)
        return redirect(moved, 301)
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
    return finish(Response(entry.html, mimetype="text/html"), etag)


def moved_to(target: OldTarget) -> Response:
    """The 301 to where an old address's post is now: its page, one of its
    comment pages, or its comment feed."""
    if target.feed:
        return redirect(url_for("feeds.post_responses", slug=target.slug), 301)
    url = url_for("posts.detail", slug=target.slug, cpage=target.cpage)
    return redirect(url, 301)


def _moved_by_id(name: str, value: str) -> Response:
    """WordPress's ``/?p=ID`` (``/?page_id=ID`` for a page): the imported post
    that had the id, else our own; with ``&cpage=N`` its comment page, with
    ``&feed=…`` its comment feed, as on the old blog."""
    number = row_id(value) or abort(404)
    cpage = positive_int(request.args.get("cpage", ""), 1_000_000)
    target = numbered_target(name, number, cpage, "feed" in request.args)
    return moved_to(target or abort(404))


def _moved_by_slug(name: str, value: str) -> Response:
    """WordPress's ``/?name=slug`` and ``/?pagename=parent/slug`` (a post, a
    page) and ``/?tag=slug``: the same page at its address here."""
    slug = value.strip("/").rpartition("/")[2]
    if not slug:
        abort(404)
    if name == "tag":
        return redirect(url_for("posts.tag", slug=slug), 301)
    post = get_published_post(slug) or abort(404)
    return redirect(url_for("posts.detail", slug=post.slug), 301)


@bp.get("/index.php")
@bp.get("/index.php/<path:rest>")
def index_php(rest: str = ""):
    """WordPress's front controller in an address (``/index.php?p=N``, the
    PATHINFO permalinks ``/index.php/slug/``): the same address without it."""
    target = local_path(rest) or abort(404)
    query = request.query_string.decode("latin-1")
    return redirect(f"{target}?{query}" if query else target, 301)


# WordPress's ``?m=`` archive: a year, a month or a day, as digits.
_ARCHIVE_DIGITS = re.compile(r"([0-9]{4})(?:([0-9]{2})([0-9]{2})?)?")


def _moved_archive(value: str, paged: str | None = None) -> Response:
    """WordPress's plain ``/?m=2011`` (``201102``, ``20110214``, with its
    ``&paged=N``): the archive, at that page."""
    match = _ARCHIVE_DIGITS.fullmatch(value.strip()) or abort(404)
    year, month, day = match.groups()
    page = listing_page(paged) if paged else 1
    kept = {"page": page} if page > 1 else {}
    if day is not None:
        target = url_for(
            "posts.day_archive", year=int(year), month=int(month), day=int(day), **kept
        )
    elif month is not None:
        target = url_for(
            "posts.month_archive", year=int(year), month=int(month), **kept
        )
    else:
        target = url_for("posts.year_archive", year=int(year), **kept)
    return redirect(target, 301)


def _moved_feed(name: str) -> Response:
    """WordPress's ``/?feed=rss2`` (``atom``, ``comments-rss2`` …): our feed."""
    if name.startswith("comments"):
        endpoint = "feeds.comments_rss"
    elif name == "atom":
        endpoint = "feeds.posts_atom"
    else:
        endpoint = "feeds.posts_rss"
    return redirect(url_for(endpoint), 301)


@bp.get("/category/<slug>/")
def category(slug: str):
    found = get_category(slug) or abort(404)
    return render_listing(
        "posts/archive.html", posts_in_category(found.id), heading=found.name
    )


@bp.get("/author/<slug>/")
def author(slug: str):
    found = get_author(slug) or abort(404)
    return render_listing(
        "posts/archive.html",
        posts_by_author(found.id),
        heading=found.display_name,
        author=found,
    )


@bp.get("/<name:slug>/")
@bp.get("/<name:slug>/comment-page-<int(min=1, max=999999):cpage>/")
def detail(slug: str, cpage: int | None = None):
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
    etag, entry = cached_page(key, make, timed=timed)
    if entry is None:
        response = finish(Response(status=304), etag)
        response.vary.add("Cookie")  # as on the page itself (RFC 9110)
        return response
    html = personalise(entry, generate_csrf(), _fresh_stamp)
    return finish(Response(html, mimetype="text/html"), etag)


def _fresh_stamp(post_id: int) -> str:
    return form_stamp(post_id, time.time())
