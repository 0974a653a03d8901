"""The writer's own comment: edited or deleted from the browser that wrote it,
within ``COMMENT_EDIT_SECONDS`` of posting and while no reply it sees answers it.

The rule is a plain function of plain values; the page (which links to show)
and the views (what a POST may do) ask the same one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Comment
from .moderation import Refusal

EXPIRED_MESSAGE = "Il tempo per modificare o eliminare questo commento è scaduto."
DISABLED_MESSAGE = "Su questo blog i commenti non si possono modificare né eliminare."
NOT_OWNER_MESSAGE = (
    "Puoi modificare o eliminare un commento solo dal browser con cui l'hai scritto."
)
REPLIED_MESSAGE = (
    "Non puoi più modificare o eliminare questo commento: qualcuno ha già risposto."
)
GONE_MESSAGE = "Questo commento non esiste più."
# Statuses a writer can still change: a comment in the trash is gone for them.
CHANGEABLE_STATUSES = ("approved", "pending", "spam")


def refuse_change(
    comment: Comment,
    owner_hash: str,
    now: datetime,
    edit_seconds: int,
    replied: bool,
) -> Refusal | None:
    """Why this browser may not edit or delete ``comment`` now, or None."""
    if comment.type != "comment" or comment.status not in CHANGEABLE_STATUSES:
        return Refusal(404, GONE_MESSAGE)
    # An empty hash is no proof: imported comments carry none.
    if not owner_hash or comment.owner_token_hash != owner_hash:
        # A held or spam comment is nobody else's to know of, as on its page.
        if comment.status != "approved":
            return Refusal(404, GONE_MESSAGE)
        return Refusal(403, NOT_OWNER_MESSAGE)
    if edit_seconds <= 0:
        return Refusal(403, DISABLED_MESSAGE)
    if now - comment.created_at >= timedelta(seconds=edit_seconds):
        return Refusal(403, EXPIRED_MESSAGE, late=True)
    if replied:
        return Refusal(403, REPLIED_MESSAGE, late=True)
    return None


def answered(comment_ids: Collection[int], owner_hash: str = "") -> set[int]:
    """Which of ``comment_ids`` somebody has answered, as ``owner_hash``'s
    browser sees the thread: an approved reply, or a held one of its own.

    A stranger's held reply does not count: the writer cannot see it, so it
    must neither take their comment from them (a troll's reply, which the
    author may never let through) nor tell them it exists."""
    if not comment_ids:
        return set()
    # Both statuses named, so that the index on (parent, status) finds them.
    seen = [Comment.status.in_(("approved", "pending"))]
    seen.append(
        or_(Comment.status == "approved", Comment.owner_token_hash == owner_hash)
        if owner_hash
        else Comment.status == "approved"
    )
    return set(
        db.session.scalars(
            select(Comment.parent_id)
            .where(Comment.parent_id.in_(sorted(comment_ids)), *seen)
            .distinct()
        )
    )


def has_replies(comment: Comment, owner_hash: str) -> bool:
    """Whether ``comment`` has a reply ``owner_hash``'s browser sees."""
    return comment.id in answered([comment.id], owner_hash)
