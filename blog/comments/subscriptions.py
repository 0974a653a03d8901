"""Readers' subscriptions: asked for with a comment, confirmed once per address.

Nothing is mailed to an address before its owner confirms it (double opt-in);
a confirmed address is never asked again, and an unconfirmed one is asked at
most ``MAX_CONFIRMATIONS`` times a day, so the form cannot be used to flood
somebody else's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from ..extensions import db
from ..mail import enqueue
from ..models import (
    Comment,
    ConfirmedAddress,
    OutboxMessage,
    Post,
    Subscription,
    utcnow,
)

REPLIES = "replies"  # replies to the reader's own comment
ALL = "all"  # every new comment of the post
MAX_CONFIRMATIONS = 3
CONFIRMATION_WINDOW = timedelta(days=1)
CONFIRM_KIND = "confirm"


def normalised(email: str | None) -> str:
    """The form of an address we store and compare (trimmed, lower case)."""
    return (email or "").strip().lower()


def is_confirmed(email: str) -> bool:
    """Whether ``email``'s owner has confirmed it."""
    return db.session.get(ConfirmedAddress, normalised(email)) is not None


def confirmations_sent(email: str, now: datetime) -> int:
    """Confirmation requests queued for ``email`` within the last day."""
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.recipient == normalised(email),
            OutboxMessage.kind == CONFIRM_KIND,
            OutboxMessage.created_at > now - CONFIRMATION_WINDOW,
        )
    )


def subscribe(comment: Comment, scope: str, now: datetime | None = None) -> bool:
    """Subscribe the writer of ``comment`` (caller commits); whether a
    confirmation request was queued."""
    email = normalised(comment.author_email)
    if scope not in (REPLIES, ALL) or not email:
        return False
    now = now or utcnow()
    db.session.add(
        Subscription(
            email=email,
            post_id=comment.post_id,
            comment_id=comment.id if scope == REPLIES else None,
            created_at=now,
        )
    )
    if is_confirmed(email) or confirmations_sent(email, now) >= MAX_CONFIRMATIONS:
        return False
    enqueue(CONFIRM_KIND, recipient=email)
    return True


def confirm(email: str, now: datetime | None = None) -> None:
    """Record that ``email``'s owner wants the notifications (caller commits)."""
    email = normalised(email)
    if not is_confirmed(email):
        db.session.add(ConfirmedAddress(email=email, confirmed_at=now or utcnow()))


@dataclass(frozen=True)
class Listed:
    """One subscription as the reader's page shows it."""

    id: int
    post_title: str
    post_slug: str
    replies_only: bool


def subscriptions_of(email: str) -> list[Listed]:
    """Every subscription of ``email``, oldest first (one query)."""
    rows = db.session.execute(
        select(Subscription.id, Post.title, Post.slug, Subscription.comment_id)
        .join(Post, Post.id == Subscription.post_id)
        .where(Subscription.email == normalised(email))
        .order_by(Subscription.id)
    ).all()
    return [Listed(i, title, slug, cid is not None) for i, title, slug, cid in rows]


def end_subscriptions(
    email: str, subscription_id: int | None = None, post_id: int | None = None
) -> int:
    """End one, a post's or (both None) all of ``email``'s subscriptions; how
    many (the caller commits)."""
    statement = delete(Subscription).where(Subscription.email == normalised(email))
    if subscription_id is not None:
        statement = statement.where(Subscription.id == subscription_id)
    if post_id is not None:
        statement = statement.where(Subscription.post_id == post_id)
    result = db.session.execute(
        statement, execution_options={"synchronize_session": False}
    )
    return result.rowcount


def recipients(comment: Comment) -> set[str]:
    """Confirmed addresses subscribed to ``comment``: to its post, or to the
    comment it answers; never its own writer."""
    wanted = [Subscription.comment_id.is_(None)]
    if comment.parent_id is not None:
        wanted.append(Subscription.comment_id == comment.parent_id)
    emails = db.session.scalars(
        select(Subscription.email)
        .join(ConfirmedAddress, ConfirmedAddress.email == Subscription.email)
        .where(Subscription.post_id == comment.post_id, or_(*wanted))
        .distinct()
    )
    return set(emails) - {normalised(comment.author_email)}


def still_subscribed(email: str, comment: Comment) -> bool:
    """Whether ``email`` is confirmed and still wants mail about ``comment``."""
    return normalised(email) in recipients(comment)
