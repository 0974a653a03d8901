"""What the feeds list: a fixed number of queries whatever the data size."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import Comment, Post
from ..posts.queries import published_posts


def recent_posts(limit: int) -> list[Post]:
    """The newest published posts with their author and categories."""
    return list(db.session.scalars(published_posts().limit(limit)).unique())


def approved_responses(post: Post, limit: int) -> list[Comment]:
    """The newest approved comments, pingbacks and webmentions of ``post``."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.post_id == post.id, Comment.status == "approved")
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )


def recent_comments(limit: int) -> list[Comment]:
    """The newest approved responses on published posts, with their post."""
    return list(
        db.session.scalars(
            select(Comment)
            .join(Comment.post)
            .where(Comment.status == "approved", Post.status == "published")
            .options(contains_eager(Comment.post))
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )
