"""WordPress's plain addresses, by query string, and where each is now.

A WordPress blog without pretty permalinks (and feed readers, search engines
and other blogs that kept its links) names everything on its front page:
``/?p=ID``, ``/?page_id=ID``, ``/?name=slug``, ``/?tag=slug``, ``/?m=201102``,
``/?feed=rss2``, ``/?paged=2``. Each moves here with one 301.
"""

from __future__ import annotations

import re

from flask import abort, redirect, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response  # what flask.redirect makes

from ..core.text import listing_page, positive_int, row_id
from .oldpaths import (
    ID_QUERIES,
    OldTarget,
    normalise_path,
    numbered_target,
    post_for_path,
)
from .queries import get_published_post

# WordPress's plain addresses that name a post, a page or a tag by its slug.
SLUG_QUERIES = ("name", "pagename", "tag")


def old_query_redirect(args: MultiDict) -> Response | None:
    """The 301 for a WordPress query string on the home page's address, or
    None when ``args`` name nothing of WordPress's (a search among them)."""
    for name in ID_QUERIES:
        if name in args:
            return _moved_by_id(name, args[name], args)
    for name in SLUG_QUERIES:
        if name in args:
            return _moved_by_slug(name, args[name])
    if "feed" in args:
        return _moved_feed(args["feed"])
    if "m" in args:
        return _moved_archive(args["m"], args.get("paged"))
    if "paged" in args:
        # WordPress's page number, of the listing or of a search (``s`` kept).
        page = listing_page(args["paged"])
        kept = {"s": args["s"]} if "s" in args else {}
        moved = url_for("posts.index", page=page if page > 1 else None, **kept)
        return redirect(moved, 301)
    return None


def moved_to(target: OldTarget) -> Response:
    """The 301 to where an old address's post is now: its page, one of its
    comment pages, or its comment feed."""
    if target.feed:
        return redirect(url_for("feeds.post_responses", slug=target.slug), 301)
    url = url_for("posts.detail", slug=target.slug, cpage=target.cpage)
    return redirect(url, 301)


def moved_term(endpoint: str, slug: str | None, query: str = "") -> Response:
    """The 301 from a term's WordPress address to its archive here, with the
    ``query`` it came with (its page); a 404 when no term had that slug."""
    if slug is None:
        abort(404)
    target = url_for(endpoint, slug=slug)
    return redirect(f"{target}?{query}" if query else target, 301)


def _moved_by_id(name: str, value: str, args: MultiDict) -> Response:
    """WordPress's ``/?p=ID`` (``/?page_id=ID`` for a page): the imported post
    that had the id, else our own; with ``&cpage=N`` its comment page, with
    ``&feed=…`` its comment feed, as on the old blog."""
    number = row_id(value) or abort(404)
    cpage = positive_int(args.get("cpage", ""), 1_000_000)
    target = numbered_target(name, number, cpage, "feed" in args)
    return moved_to(target or abort(404))


def _moved_by_slug(name: str, value: str) -> Response:
    """WordPress's ``/?name=slug`` and ``/?pagename=parent/slug`` (a post, a
    page) and ``/?tag=slug``: the same page at its address here."""
    path = value.strip("/")
    slug = path.rpartition("/")[2]
    if not slug:
        abort(404)
    if name == "tag":
        return redirect(url_for("posts.tag", slug=slug), 301)
    # The address an import recorded names a child page by its parent too
    # ("corsi/prezzi", where "servizi/prezzi" is another page), an old or a
    # non-ASCII slug as WordPress had it; a slug alone is, as in WordPress,
    # first the post that has it now.
    recorded = normalise_path(f"/{path}")
    if "/" in path:
        post = post_for_path(recorded) or get_published_post(slug)
    else:
        post = get_published_post(slug) or post_for_path(recorded)
    return redirect(url_for("posts.detail", slug=(post or abort(404)).slug), 301)


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
