"""Read-side queries for the public pages; each page uses a fixed number of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask import g, has_request_context
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..core.memo import kept_for_version
from ..core.settings import content_version
from ..core.urls import post_guid
from ..database import session_connection, session_holds_changes
from ..extensions import db
from ..models import Author, Category, Comment, Post, Tag

Loaded = TypeVar("Loaded")


def published_content() -> Select:
    """Published articles and pages with author and categories, newest first:
    what an address or a search finds."""
    return (
        select(Post)
        .where(Post.status == "published")
        .options(joinedload(Post.author), selectinload(Post.categories))
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def published_posts() -> Select:
    """Published articles, newest first: what the listings and feeds show (a
    page is reached by its address and links only, as in WordPress)."""
    return published_content().where(Post.kind == "post")


# Built once: every post page made afresh (for a reader's own held comment,
# saved details, the author) runs it, and building it cost more than running it.
_PUBLISHED_POST = published_content().where(Post.slug == bindparam("slug"))


def get_published_post(slug: str) -> Post | None:
    """The published post with this slug, or None (drafts are never public)."""
    return _remembered(db.session.scalar(_PUBLISHED_POST, {"slug": slug}))


def _remembered(post: Loaded) -> Loaded:
    if post is not None and has_request_context():
        g.setdefault("loaded_posts", {})[post.slug] = post
    return post


def loaded_post(slug: str) -> Post | PostToAnswer | None:
    """The published post with this slug if this request has loaded it already:
    what an after-request hook may ask of the page's post without a query."""
    return g.get("loaded_posts", {}).get(slug) if has_request_context() else None


# What this module keeps per content version (``blog.core.memo``).
_KEPT = "posts.kept"
_KEPT_COUNTS = "posts.listing_counts"


@dataclass(frozen=True)
class PostToAnswer:
    """What a response's write path reads of a published post: no ORM object,
    so that each worker may keep it while the content version stands."""

    id: int
    slug: str
    title: str
    comment_status: str
    ping_status: str
    published_at: datetime | None

    @property
    def pings_open(self) -> bool:
        """Whether it takes pingbacks and webmentions (as ``Post.pings_open``)."""
        return self.ping_status == "open"

    @property
    def is_published(self) -> bool:
        """Always (only published posts are answered): pages ask it of a post."""
        return True


_TO_ANSWER = "posts.to_answer"
# Built once: on the comment form's write path, building the statement cost
# more than running it.
_POST_TO_ANSWER = select(
    Post.id,
    Post.slug,
    Post.title,
    Post.comment_status,
    Post.ping_status,
    Post.published_at,
).where(Post.status == "published", Post.slug == bindparam("slug"))


def get_post_to_answer(slug: str) -> PostToAnswer | None:
    """The published post with this slug, as its comment form needs it.

    Kept with the content version, which every change to a post moves: a wave
    of held comments (which move no version readers see) reads the post's row
    once per worker, not once per comment.
    """

    def read() -> PostToAnswer | None:
        row = session_connection().execute(_POST_TO_ANSWER, {"slug": slug}).first()
        return PostToAnswer(*row) if row is not None else None

    # A session with changes of its own (none of today's callers) would read
    # them before they are committed: that is not kept for the others, and
    # needs no version.
    if session_holds_changes():
        return _remembered(read())
    return _remembered(kept_for_version(_TO_ANSWER, content_version(), slug, read))


@dataclass(frozen=True)
class PostLink:
    """What a link to a post needs (a refusal page knows only the slug)."""

    slug: str
    title: str = ""


@dataclass(frozen=True)
class Neighbours:
    previous: PostLink | None
    next: PostLink | None


def get_neighbours(post: Post) -> Neighbours:
    """The published posts just before and just after ``post``.

    Kept with the content version: pages made for one reader (their own held
    comment, saved details) would otherwise build and run both statements on
    every view.
    """
    if post.is_page or post.published_at is None:
        # A page is in no sequence; nor is a post published without a date
        # (imported so before the import dated them).
        return Neighbours(None, None)
    # With its date: the post may have been read before a change to it that the
    # version read after it already carries.
    key = ("neighbours", post.id, post.published_at)
    return kept_for_version(_KEPT, content_version(), key, lambda: _neighbours(post))


def site_pages() -> list[PostLink]:
    """The published pages in their menu order, then by title: the site's menu
    ("Chi sono", "Contatti"),
    kept with the content version, so a page view seldom asks for it."""
    return kept_for_version(_KEPT, content_version(), "pages", _site_pages)


def _site_pages() -> list[PostLink]:
    rows = db.session.execute(
        select(Post.slug, Post.title)
        .where(Post.status == "published", Post.kind == "page")
        .order_by(Post.menu_order, Post.title, Post.id)
    )
    return [PostLink(slug, title) for slug, title in rows]


def _neighbours(post: Post) -> Neighbours:
    # Ordered by (published_at, id), so posts published in the same second
    # still form one chain instead of pointing at each other.
    base = select(Post.slug, Post.title).where(
        Post.status == "published", Post.kind == "post"
    )
    same_time = Post.published_at == post.published_at
    previous = db.session.execute(
        base.where(
            or_(
                Post.published_at < post.published_at,
                and_(same_time, Post.id < post.id),
            )
        )
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(1)
    ).first()
    following = db.session.execute(
        base.where(
            or_(
                Post.published_at > post.published_at,
                and_(same_time, Post.id > post.id),
            )
        )
        .order_by(Post.published_at.asc(), Post.id.asc())
        .limit(1)
    ).first()
    return Neighbours(
        previous=PostLink(*previous) if previous else None,
        next=PostLink(*following) if following else None,
    )


def count_approved_responses(post_ids: list[int]) -> dict[int, int]:
    """Approved comments and pings per post, for the given posts, in one query.

    Kept with the content version: the home page lists them for every visitor,
    and counting reads an index entry per response (15 ms for a post of
    100,000).
    """
    if not post_ids:
        return {}

    def count() -> dict[int, int]:
        rows = db.session.execute(
            select(Comment.post_id, func.count())
            .where(Comment.post_id.in_(post_ids), Comment.status == "approved")
            .group_by(Comment.post_id)
        )
        return {post_id: number for post_id, number in rows}

    # A store of their own: each search's results are another key.
    version = content_version()
    return dict(kept_for_version(_KEPT_COUNTS, version, tuple(post_ids), count))


def get_category(slug: str) -> Category | None:
    """The category with this slug."""
    return db.session.scalar(select(Category).where(Category.slug == slug))


def term_moved(model: type[Category] | type[Tag], slug: str) -> str | None:
    """The slug here of the category or tag WordPress called ``slug``, if it
    is another ("caffè" for "caffe"): where its old archive address leads."""
    return db.session.scalar(
        select(model.slug).where(model.wp_slug == slug.lower()).limit(1)
    )


def get_author(slug: str) -> Author | None:
    """The author with this slug."""
    return db.session.scalar(select(Author).where(Author.slug == slug))


def posts_in_category(category_id: int) -> Select:
    """Published posts filed under the category."""
    return published_posts().where(Post.categories.any(Category.id == category_id))


def posts_by_author(author_id: int) -> Select:
    """Published posts written by the author."""
    return published_posts().where(Post.author_id == author_id)


def posts_between(start: datetime, end: datetime) -> Select:
    """Published posts published in ``[start, end)`` (a date archive)."""
    return published_posts().where(Post.published_at >= start, Post.published_at < end)


def get_tag(slug: str) -> Tag | None:
    """The tag with this slug."""
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def posts_with_tag(tag_id: int) -> Select:
    """Published posts carrying the tag."""
    return published_posts().where(Post.tags.any(Tag.id == tag_id))


def get_published_post_by_id(post_id: int) -> Post | None:
    """The published post with this id (our own ``?p=ID`` guids)."""
    return db.session.scalar(published_content().where(Post.id == post_id))


@dataclass(frozen=True)
class SitemapEntry:
    slug: str
    updated_at: datetime
    published_at: datetime
    is_page: bool = False  # in no date archive


def sitemap_entries() -> list[SitemapEntry]:
    """Every published article's and page's slug and last change, newest
    first, in one query."""
    rows = db.session.execute(
        select(Post.slug, Post.updated_at, Post.published_at, Post.kind)
        .where(Post.status == "published")
        .order_by(Post.published_at.desc(), Post.id.desc())
    )
    return [
        SitemapEntry(
            slug,
            max(updated, published or updated),
            published or updated,
            kind == "page",
        )
        for slug, updated, published, kind in rows
    ]


def imported_guids_among(posts: Iterable[Post]) -> set[str]:
    """The guids imported posts hold that are also the ``?p=ID`` of one of
    ``posts`` (``core.urls.kept_guid``), in one query."""
    own = [post_guid(post.id) for post in posts if not post.imported_guid]
    if not own:
        return set()
    return set(
        db.session.scalars(
            select(Post.imported_guid).where(Post.imported_guid.in_(own))
        )
    )
