"""Readers' subscriptions: asked for with a comment, confirmed by the address.

Nothing is mailed for a subscription before the address's owner confirms it
(double opt-in). Confirming once trusts the browser that asked: its later
subscriptions of the same address need no new confirmation. Any other browser
asks again, so nobody can subscribe an address that somebody else once
confirmed. An address is asked at most ``MAX_CONFIRMATIONS`` times a day, so
the form cannot be used to flood somebody else's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, update

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


def trusted_browser(email: str, owner_hash: str | None) -> bool:
    """Whether the browser ``owner_hash`` has a confirmed subscription of ``email``."""
    if not owner_hash:
        return False
    return db.session.scalar(
        select(
            exists().where(
                Subscription.email == normalised(email),
                Subscription.owner_token_hash == owner_hash,
                Subscription.confirmed_at.is_not(None),
            )
        )
    )


def subscribe(comment: Comment, scope: str, now: datetime | None = None) -> bool:
    """Subscribe the writer of ``comment`` (caller commits); whether a
    confirmation request was queued."""
    email = normalised(comment.author_email)
    if scope not in (REPLIES, ALL) or not email:
        return False
    now = now or utcnow()
    owner_hash = comment.owner_token_hash or None
    subscription = Subscription(
        email=email,
        post_id=comment.post_id,
        comment_id=comment.id if scope == REPLIES else None,
        owner_token_hash=owner_hash,
        created_at=now,
        confirmed_at=now if trusted_browser(email, owner_hash) else None,
    )
    db.session.add(subscription)
    if subscription.confirmed_at is not None:
        return False
    if confirmations_sent(email, now) >= MAX_CONFIRMATIONS:
        return False
    db.session.flush()  # the request names the subscription
    enqueue(CONFIRM_KIND, ref_id=subscription.id, recipient=email)
    return True


def confirm(
    email: str, subscription_id: int | None = None, now: datetime | None = None
) -> None:
    """Record that ``email``'s owner wants the notifications the browser behind
    ``subscription_id`` asked for (caller commits).

    Every subscription of the address still waiting from that browser starts
    at once. A request from before subscriptions were confirmed one by one
    (None) starts those whose browser is unknown.
    """
    email, now = normalised(email), now or utcnow()
    if not is_confirmed(email):
        db.session.add(ConfirmedAddress(email=email, confirmed_at=now))
    owner_hash = None
    if subscription_id is not None:
        asked = db.session.get(Subscription, subscription_id)
        if asked is None or asked.email != email:
            return  # ended meanwhile (or not this address's)
        owner_hash = asked.owner_token_hash
    db.session.execute(
        update(Subscription)
        .where(
            Subscription.email == email,
            Subscription.owner_token_hash.is_not_distinct_from(owner_hash),
            Subscription.confirmed_at.is_(None),
        )
        .values(confirmed_at=now),
        execution_options={"synchronize_session": False},
    )


def asked_about(subscription_id: int | None) -> str:
    """The title of the post a subscription follows ("" when none or ended)."""
    asked = db.session.get(Subscription, subscription_id) if subscription_id else None
    return asked.post.title if asked is not None else ""


def awaits_confirmation(email: str, subscription_id: int | None) -> bool:
    """Whether the request for ``subscription_id`` (None: the address as a
    whole, for requests from before) still has something to confirm."""
    if subscription_id is None:
        return not is_confirmed(email)
    asked = db.session.get(Subscription, subscription_id)
    return asked is not None and asked.confirmed_at is None


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
    """Addresses with a confirmed subscription to ``comment``: to its post, or
    to the comment it answers; never its own writer."""
    wanted = [Subscription.comment_id.is_(None)]
    if comment.parent_id is not None:
        wanted.append(Subscription.comment_id == comment.parent_id)
    emails = db.session.scalars(
        select(Subscription.email)
        .where(
            Subscription.post_id == comment.post_id,
            Subscription.confirmed_at.is_not(None),
            or_(*wanted),
        )
        .distinct()
    )
    return set(emails) - {normalised(comment.author_email)}


def still_subscribed(email: str, comment: Comment) -> bool:
    """Whether ``email`` is confirmed and still wants mail about ``comment``."""
    return normalised(email) in recipients(comment)
