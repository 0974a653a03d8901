"""Submitting a comment: the reader's refusals, then ``operations.add_response``.

Plain values in, plain values out: no request in any signature, so every rule
is exercised directly and through the form alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select

from ..core.settings import ModerationSettings
from ..extensions import db
from ..models import Comment, Post, utcnow
from .identity import token_hash
from .moderation import (
    CLOSED_MESSAGE,
    History,
    Refusal,
    comments_closed,
    parent_values,
    refuse,
    refuse_reply,
)
from .operations import NewResponse, add_response, candidate_of
from .subscriptions import subscribe


@dataclass(frozen=True)
class Submission:
    """What a reader (or the signed-in author) sent, as plain values."""

    name: str
    email: str
    content: str
    url: str = ""
    parent_id: int | None = None
    ip: str = ""
    user_agent: str = ""
    author_id: int | None = None  # the signed-in author wrote it
    owner_token: str = ""
    honeypot: str = ""
    seconds_to_submit: float | None = None
    # "replies", "all" or "": which mails the reader asked for (subscriptions).
    notify: str = ""


@dataclass(frozen=True)
class Outcome:
    comment: Comment | None = None
    refusal: Refusal | None = None


def submit_comment(
    post: Post,
    submission: Submission,
    settings: ModerationSettings,
    now: datetime | None = None,
) -> Outcome:
    """Store ``submission`` on ``post`` with the status the rules choose, or refuse
    (closed post, bad parent, duplicate, flood) before anything is stored."""
    now = now or utcnow()
    refusal = refuse_closed(post, settings, now)
    if refusal:
        return Outcome(refusal=refusal)
    parent = None
    if submission.parent_id is not None:
        parent = db.session.get(Comment, submission.parent_id)
        refusal = refuse_reply(
            parent_values(parent) if parent else None,
            post.id,
            settings,
        )
        if refusal:
            return Outcome(refusal=refusal)
    new = NewResponse(
        content=submission.content,
        author_name=submission.name,
        author_email=submission.email,
        author_url=submission.url,
        author_ip=submission.ip,
        user_agent=submission.user_agent,
        author_id=submission.author_id,
        owner_token_hash=token_hash(submission.owner_token),
        parent=parent,
        created_at=now,
        honeypot=submission.honeypot,
        seconds_to_submit=submission.seconds_to_submit,
    )
    # The refusals need no markup: they come before the text is cleaned, so a
    # refused request never pays for the sanitiser.
    history = sender_history(post, submission, settings, new.owner_token_hash, now)
    refusal = refuse(candidate_of(new), history, settings)
    if refusal:
        return Outcome(refusal=refusal)
    comment = add_response(post, new, settings, history, commit=False)
    # Spam asks for nothing; the author needs no mail about the own blog.
    if submission.notify and comment.status != "spam" and comment.author_id is None:
        subscribe(comment, submission.notify, now)
    db.session.commit()
    return Outcome(comment=comment)


def refuse_closed(
    post: Post, settings: ModerationSettings, now: datetime | None = None
) -> Refusal | None:
    """The 403 refusal for a post that takes no more comments, or None."""
    closed = comments_closed(
        post.comment_status, post.published_at, settings, now or utcnow()
    )
    return Refusal(403, CLOSED_MESSAGE) if closed else None


def _latest_comment_at(column, value: str) -> datetime | None:
    # One indexed look-up per column (an OR of both would scan the table).
    return db.session.scalar(
        select(Comment.created_at)
        .where(column == value, Comment.type == "comment")
        .order_by(Comment.created_at.desc())
        .limit(1)
    )


def sender_history(
    post: Post,
    submission: Submission,
    settings: ModerationSettings,
    owner_hash: str,
    now: datetime,
) -> History:
    """What the database knows about this sender: duplicates, pace, proof."""
    same_sender = [Comment.author_name == submission.name]
    if submission.email:
        same_sender.append(Comment.author_email == submission.email)
    if submission.author_id is not None:
        same_sender.append(Comment.author_id == submission.author_id)
    duplicate = db.session.scalar(
        select(
            exists().where(
                Comment.post_id == post.id,
                Comment.status != "trash",
                Comment.content == submission.content,
                or_(*same_sender),
            )
        )
    )
    last = max(
        (
            _latest_comment_at(column, value)
            for column, value in (
                (Comment.author_ip, submission.ip),
                (Comment.author_email, submission.email),
            )
            if value
        ),
        default=None,
        key=lambda moment: moment or datetime.min,
    )
    proven = False
    if settings.auto_approve_known and owner_hash:
        proven = db.session.scalar(
            select(
                exists().where(
                    and_(
                        Comment.owner_token_hash == owner_hash,
                        Comment.status == "approved",
                    )
                )
            )
        )
    return History(
        duplicate=bool(duplicate),
        seconds_since_last=(now - last).total_seconds() if last else None,
        proven_known=bool(proven),
    )
