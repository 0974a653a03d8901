"""Feed URLs: /feed/, /feed/atom/, /<slug>/feed/, /comments/feed/, and a
category's, tag's or author's /…/<slug>/feed/."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urljoin

from bs4 import BeautifulSoup
from flask import Response, abort, current_app, request
from markupsafe import escape

from ..core.text import web_url_or_empty, words_of_html
from ..core.urls import kept_guid, post_guid, post_url, site_url
from ..extensions import db
from ..models import Comment, Post
from ..pagecache.cache import cached_page, feed_key, finish
from ..posts.queries import (
    get_author,
    get_category,
    get_published_post,
    get_tag,
    imported_guids_among,
    posts_by_author,
    posts_in_category,
    posts_with_tag,
)
from . import bp
from .builders import Feed, FeedItem, atom, rss
from .queries import approved_responses, recent_comments, recent_posts

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


# The attributes of a post's markup (its sanitiser's list) that hold addresses.
_ADDRESS_ATTRIBUTES = ("href", "src", "cite")


def absolute_links(html: str, base: str) -> str:
    """``html`` with every address made absolute against ``base``: a feed
    reader reads an entry away from its page, and resolves a relative link
    against the feed's own address (``foto.jpg`` became ``/feed/foto.jpg``)."""
    soup = BeautifulSoup(html, "html.parser")
    for name in _ADDRESS_ATTRIBUTES:
        for element in soup.find_all(attrs={name: True}):
            element[name] = urljoin(base, str(element[name]).strip())
    return str(soup)


def post_items(posts: Iterable[Post]) -> list[FeedItem]:
    """Posts as feed entries, each with its permanent id."""
    posts = list(posts)
    imported = imported_guids_among(posts)
    return [post_item(post, kept_guid(post, imported)) for post in posts]


def post_item(post: Post, guid: str) -> FeedItem:
    """A post as a feed entry, with its full sanitised body."""
    return FeedItem(
        title=post.title,
        link=post_url(post),
        guid=guid,
        published=post.published_at or post.created_at,
        updated=post.updated_at,
        author=post.author.display_name,
        categories=[category.name for category in post.categories],
        summary=post.summary,
        content_html=absolute_links(post.body, post_url(post)),
    )


def response_item(comment: Comment, post: Post) -> FeedItem:
    """An approved comment or ping as a feed entry."""
    if comment.is_ping:
        title = comment.source_title or comment.source_url or ""
        html = (
            f'<p><a href="{escape(web_url_or_empty(comment.source_url))}">'
            f"[…] {escape(comment.content)} […]</a></p>"
        )
    else:
        title = f"Commento a «{post.title}» di {comment.author_name}"
        html = comment.content_html
    return FeedItem(
        title=title,
        # The comment's own address, which leads to the comment page that
        # shows it (the post's first page holds only the first comments).
        link=site_url("comments.permalink", comment_id=comment.id),
        guid=f"{post_guid(post.id)}#comment-{comment.id}",
        published=comment.created_at,
        author=comment.author_name,
        summary=words_of_html(html),
        content_html=html,
    )


def _respond(build: Callable[[], bytes], mimetype: str) -> Response:
    # A feed shows only what any reader sees: one copy for everybody, kept in
    # the page cache by the content version, which answers it before Flask from
    # then on. Feed readers poll: each poll used to build it whole (7 to 23 ms at
    # 100,000 responses), then to cost a Flask request (0.6 ms).
    etag, entry = cached_page(
        feed_key(request.path), lambda: (build().decode(), 0, None)
    )
    if entry is None:
        return finish(Response(status=304), etag)
    return finish(Response(entry.body, content_type=mimetype), etag)


def _limit() -> int:
    return current_app.config["FEED_ITEMS"]


def _posts_feed() -> Feed:
    config = current_app.config
    return Feed(
        title=config["SITE_NAME"],
        link=site_url("posts.index"),
        self_url=site_url(request.endpoint),
        description=config["SITE_TAGLINE"],
        items=post_items(recent_posts(_limit())),
    )


@bp.get("/feed/")
def posts_rss() -> Response:
    """The blog's RSS feed: its latest posts."""
    return _respond(lambda: rss(_posts_feed()), RSS_TYPE)


@bp.get("/feed/atom/")
def posts_atom() -> Response:
    """The blog's latest posts as an Atom feed."""
    return _respond(lambda: atom(_posts_feed()), ATOM_TYPE)


@bp.get("/<slug>/feed/")
def post_responses(slug: str) -> Response:
    """One post's RSS feed of its approved comments and pings."""
    return _respond(lambda: rss(_post_responses_feed(slug)), RSS_TYPE)


def _post_responses_feed(slug: str) -> Feed:
    post = get_published_post(slug) or abort(404)
    return Feed(
        title=f"Commenti a: {post.title}",
        link=post_url(post),
        self_url=site_url("feeds.post_responses", slug=post.slug),
        description=f"Commenti e pingback a «{post.title}»",
        items=[response_item(c, post) for c in approved_responses(post, _limit())],
    )


# WordPress's feeds of a listing: a category's, a tag's, an author's posts.
_LISTINGS = {
    "category": (get_category, posts_in_category, "Categoria"),
    "tag": (get_tag, posts_with_tag, "Tag"),
    "author": (get_author, posts_by_author, "Autore"),
}


@bp.get("/<any(category, tag, author):listing>/<slug>/feed/")
def listing_rss(listing: str, slug: str) -> Response:
    """The RSS feed of a category's, tag's or author's posts."""
    return _respond(lambda: rss(_listing_feed(listing, slug)), RSS_TYPE)


@bp.get("/<any(category, tag, author):listing>/<slug>/feed/atom/")
def listing_atom(listing: str, slug: str) -> Response:
    """The Atom feed of a category's, tag's or author's posts."""
    return _respond(lambda: atom(_listing_feed(listing, slug)), ATOM_TYPE)


def _listing_feed(listing: str, slug: str) -> Feed:
    find, posts_of, kind = _LISTINGS[listing]
    found = find(slug) or abort(404)
    name = found.display_name if listing == "author" else found.name
    config = current_app.config
    posts = db.session.scalars(posts_of(found.id).limit(_limit())).unique().all()
    if not posts:
        abort(404)  # as the archive: nothing published under it, nothing to name
    return Feed(
        title=f"{config['SITE_NAME']} » {kind}: {name}",
        link=site_url(f"posts.{listing}", slug=found.slug),
        self_url=site_url(request.endpoint, listing=listing, slug=found.slug),
        description=config["SITE_TAGLINE"],
        items=post_items(posts),
    )


@bp.get("/comments/feed/")
def comments_rss() -> Response:
    """The RSS feed of the latest comments on the whole blog."""
    return _respond(lambda: rss(_comments_feed()), RSS_TYPE)


def _comments_feed() -> Feed:
    config = current_app.config
    return Feed(
        title=f"Commenti a: {config['SITE_NAME']}",
        link=site_url("posts.index"),
        self_url=site_url("feeds.comments_rss"),
        description=f"Gli ultimi commenti su {config['SITE_NAME']}",
        items=[response_item(c, c.post) for c in recent_comments(_limit())],
    )
