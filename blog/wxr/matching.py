"""What of a WordPress export the database already holds: the posts and
comments an earlier import made, and whether the file is this blog's own."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from ..extensions import db
from ..models import Comment, OldPath, Post
from ..posts.oldpaths import NUMBERED_PATHS, normalise_path, post_for_path
from ..posts.slugs import post_slug
from .names import post_title
from .reader import WxrComment, WxrPost


def comment_key(
    kind: str, author_name: str, created_at: datetime, source_url: str | None
) -> tuple:
    """What tells a response apart from the post's others."""
    # Pings are unique per source URL (uq_comment_post_source); comments are
    # told apart by who wrote them and when (and by id, in ``_Importer.comments``).
    if kind != "comment" and source_url:
        return ("ping", source_url)
    return (kind, author_name, created_at)


def comment_number(data: WxrComment) -> int:
    """The comment's number for its old ``#comment-N`` links."""
    # The id that makes its #comment-N anchor: the one it had before the blog
    # that exported it, when that blog says so, else its id there.
    return data.old_id or data.wp_id


def same_writer(comment: Comment, kind: str, author_name: str) -> bool:
    """Whether ``comment`` is of ``kind`` and by ``author_name``."""
    return comment.type == kind and comment.author_name == author_name


_MINUTE = timedelta(minutes=1)


def imported_before(data: WxrPost, paths: list[str]) -> Post | None:
    """The post an earlier import made of ``data``: by an old address it
    recorded, so a slug changed since still matches; else by slug, as imports
    matched before they recorded addresses."""
    for path in paths:
        post = post_for_path(path, published_only=False)
        # "?p=ID" alone could be another blog's post with the same number (and
        # every WordPress blog has a page 2, its sample page).
        if post is not None and (
            not path.startswith(NUMBERED_PATHS)
            # An untitled draft is stored under its slug; an import before
            # titles were made plain kept them raw.
            or post.title in (post_title(data), data.title, post.slug)
        ):
            return post
    # Only a slug WordPress gave: a draft's comes from its title, which another
    # post may share.
    slug = post_slug(data.slug)
    post = db.session.scalar(select(Post).where(Post.slug == slug)) if slug else None
    # WordPress lets a page share an article's slug: two items, not one.
    if post is None or post.kind != data.post_type:
        return None
    # A post written here that happens to share the slug ("chi-sono") is not
    # the one of the file: the same post has its title or its date.
    same_date = data.published_at is not None and post.published_at is not None
    same_date = same_date and abs(post.published_at - data.published_at) < _MINUTE
    if post.title not in (post_title(data), data.title, post.slug) and not same_date:
        return None
    numbered = db.session.scalar(
        select(OldPath.id)
        .where(OldPath.post_id == post.id, OldPath.path.like("/?p=%"))
        .limit(1)
    )
    # A post another WordPress post was imported as (a draft whose slug was
    # made from its title, "ciao-2") is not this one; this blog's own export,
    # which writes each post's own address, still finds its posts.
    if numbered and normalise_path(data.link) != normalise_path(f"/{post.slug}/"):
        return None
    return post


def same_site(first: str, second: str) -> bool:
    """Whether two site addresses are the same site (host, any case, and path)."""
    a, b = urlsplit(first.strip()), urlsplit(second.strip())
    return bool(a.netloc) and (a.netloc.lower(), a.path.rstrip("/")) == (
        b.netloc.lower(),
        b.path.rstrip("/"),
    )
