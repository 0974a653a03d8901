"""WordPress's other addresses: date and tag archives, sitemap, robots, old links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import unquote, urlsplit

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from ..core.localtime import local_time, utc_time
from ..core.settings import content_version
from ..core.urls import local_path, site_url
from ..models import Post, Tag
from ..pagecache.cache import finish, make_etag, none_match, site_release
from ..web.errors import render_error
from ..web.templating import MONTHS_IT
from . import bp
from .listing import render_listing
from .oldpaths import resolve
from .oldqueries import moved_term, moved_to
from .queries import (
    get_category,
    get_published_post,
    get_tag,
    posts_between,
    posts_with_tag,
    sitemap_entries,
    term_moved,
)
from .views import detail

W3C = "%Y-%m-%dT%H:%M:%SZ"


def _local(year: int, month: int, day: int) -> datetime:
    """Midnight of that day in the blog's zone, as the stored (UTC) times read
    it: an archive holds the posts its readers see dated in it."""
    return utc_time(datetime(year, month, day))


@bp.get("/<int(fixed_digits=4):year>/")
def year_archive(year: int) -> ResponseReturnValue:
    """The year's posts; a post whose slug is these four digits wins the address."""
    slug = f"{year:04d}"
    if get_published_post(slug) is not None:
        return detail(slug)
    if not 1 <= year <= 9998:
        abort(404)
    return render_listing(
        "posts/archive.html",
        posts_between(_local(year, 1, 1), _local(year + 1, 1, 1)),
        missing_if_empty=True,
        heading=str(year),
    )


@bp.get("/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/")
def month_archive(year: int, month: int) -> str:
    """The month's posts, WordPress's ``/2011/02/``."""
    if not (1 <= month <= 12 and 1 <= year <= 9998):
        abort(404)
    end = _local(year + 1, 1, 1) if month == 12 else _local(year, month + 1, 1)
    return render_listing(
        "posts/archive.html",
        posts_between(_local(year, month, 1), end),
        missing_if_empty=True,
        heading=f"{MONTHS_IT[month - 1]} {year}",
    )


@bp.get(
    "/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>/"
)
def day_archive(year: int, month: int, day: int) -> str:
    """The day's posts, WordPress's ``/2011/02/14/``."""
    try:
        start = _local(year, month, day)
        # The next local midnight, not 24 hours on: the days the clocks
        # change last 23 and 25 hours.
        following = date(year, month, day) + timedelta(days=1)
        end = _local(following.year, following.month, following.day)
    except (ValueError, OverflowError):  # no such day, or past year 9999
        abort(404)
    return render_listing(
        "posts/archive.html",
        posts_between(start, end),
        missing_if_empty=True,
        heading=f"{day} {MONTHS_IT[month - 1]} {year}",
    )


@bp.get("/tag/<slug>/")
def tag(slug: str) -> ResponseReturnValue:
    """The posts carrying an imported WordPress tag."""
    found = get_tag(slug)
    if found is None:
        query = request.query_string.decode("latin-1")
        return moved_term("posts.tag", term_moved(Tag, slug), query)
    return render_listing(
        "posts/archive.html",
        posts_with_tag(found.id),
        missing_if_empty=True,  # as a category's: a draft's tag is not news
        heading=found.name,
    )


def _versioned(key: str, render) -> Response:
    # These pages change only with the content: revalidated by its version.
    etag = make_etag(content_version(), (key,), site_release(current_app))
    if none_match(request.headers.get("If-None-Match"), etag):
        return finish(Response(status=304), etag)
    return finish(render(), etag)


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: str


def _render_sitemap() -> Response:
    entries = sitemap_entries()
    urls = [
        SitemapUrl(site_url("posts.detail", slug=e.slug), e.updated_at.strftime(W3C))
        for e in entries
    ]
    years = sorted(
        # The year archives go by the blog's local days, as their pages do.
        {local_time(e.published_at).year for e in entries if not e.is_page},
        reverse=True,
    )
    xml = render_template(
        "posts/sitemap.xml",
        home=site_url("posts.index"),
        home_lastmod=max((url.lastmod for url in urls), default=None),
        entries=urls,
        archives=[site_url("posts.year_archive", year=year) for year in years],
    )
    return Response(xml, mimetype="application/xml")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Home, every published post with its last change, the year archives."""
    return _versioned("sitemap.xml", _render_sitemap)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers: everything but the author's area; where the sitemap is."""
    text = render_template(
        "posts/robots.txt",
        admin_path=urlsplit(site_url("admin.dashboard")).path,
        sitemap=site_url("posts.sitemap"),
    )
    return Response(text, mimetype="text/plain")


# WordPress's pretty addresses of listings and feeds, and where they are here:
# ``/category/caffe/page/2/`` is ``/category/caffe/?page=2``.
_LISTING_PAGE = re.compile(r"^(/(?:.*/)?)page/([1-9][0-9]{0,5})/?$", re.DOTALL)
# A child category's address names its parents first: the last one is its own.
# (A category's feed, ``/category/slug/feed/``, is no child category.)
_NESTED_CATEGORY = re.compile(r"^/category/(?!.*/feed(?:/|$))(?:[^/]+/)+([^/]+)/?$")
# A child category's feed, in any of WordPress's formats: the category's own.
_NESTED_CATEGORY_FEED = re.compile(
    r"^/category/(?:[^/]+/)+([^/]+)/feed(?:/(?:rss2?|rdf|(atom)))?/?$"
)
# A listing's feed in another format (``/category/caffe/feed/rss2/``): its RSS.
_LISTING_FEED_VARIANT = re.compile(
    r"^(/(?:category|tag|author)/[^/]+/feed/)(?:rss2?|rdf)/?$"
)
_SITE_FEEDS = {
    "/feed/rss2/": "feeds.posts_rss",
    "/feed/rss/": "feeds.posts_rss",
    "/feed/rdf/": "feeds.posts_rss",
    "/comments/feed/rss2/": "feeds.comments_rss",
    "/comments/feed/atom/": "feeds.comments_rss",
    "/comments/feed/rss/": "feeds.comments_rss",
    "/comments/feed/rdf/": "feeds.comments_rss",
    # WordPress's own sitemap (5.5 and later) and Yoast's.
    "/wp-sitemap.xml": "posts.sitemap",
    "/sitemap_index.xml": "posts.sitemap",
}


def listing_address(path: str) -> str | None:
    """Where a WordPress listing's or feed's address is here, or None."""
    if path in _SITE_FEEDS:
        return url_for(_SITE_FEEDS[path])
    if match := _LISTING_PAGE.match(path):
        listing = _own_category(match.group(1)) or local_path(match.group(1))
        return f"{listing}?page={match.group(2)}" if listing else None
    if match := _LISTING_FEED_VARIANT.match(path):
        return local_path(match.group(1)) or None
    if (match := _NESTED_CATEGORY_FEED.match(path)) and get_category(match.group(1)):
        endpoint = "feeds.listing_atom" if match.group(2) else "feeds.listing_rss"
        return url_for(endpoint, listing="category", slug=match.group(1))
    return _own_category(path)


def _own_category(path: str) -> str | None:
    # Only a category that exists: a 301 to a 404 would be kept for good.
    if (match := _NESTED_CATEGORY.match(path)) and get_category(match.group(1)):
        return url_for("posts.category", slug=match.group(1))
    return None


@bp.app_errorhandler(404)
def moved_or_missing(error: HTTPException) -> ResponseReturnValue:
    """An address of the old blog moves to the post (301); else the 404 page."""
    if request.method in ("GET", "HEAD"):
        target = resolve(request.full_path)
        if target is not None:
            moved = moved_to(target)
            # A comment page missing at the post's own address (an old path
            # may equal it) is missing: never a redirect to itself.
            if (
                unquote(urlsplit(moved.location).path)
                != request.script_root + request.path
            ):
                return moved
        listing = listing_address(request.path)
        if listing is not None:
            return redirect(listing, 301)
        post = _post_in_other_case(request.path)
        if post is not None:
            return redirect(url_for("posts.detail", slug=post.slug), 301)
    return render_error(404)


def _post_in_other_case(path: str) -> Post | None:
    # WordPress finds "/Un-Articolo/" (MySQL compares slugs in any case).
    slug = path.strip("/")
    if slug == slug.lower() or "/" in slug:
        return None
    return get_published_post(slug.lower())
