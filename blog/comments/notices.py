"""What the outbox hears about responses: held ones, and ones made visible
(with, for a held comment approved, the confirmations its writer waits for,
and for a post published, those of the comments approved while it was not).

A held response stored, or a comment made visible (stored approved, or
approved later), adds one outbox row per response, in one INSERT of the same
transaction: a rollback drops it, and the request pays nothing
more. The worker renders the mail later (``mails``), from the state of then.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..core.signals import post_published, response_inserted
from ..extensions import db
from ..mail import enqueue, enqueue_in_flush, register
from ..models import Comment, Post
from .mails import BATCHES, HELD, RENDERERS, SPACINGS, TOLD_KINDS, VISIBLE
from .subscriptions import ASK_KIND, ask_when_published

# session.info key: set by bulk loaders (WordPress import) whose comments were
# already moderated elsewhere and must not flood the author's or readers' inbox.
QUIET = "no_held_notifications"


def _became_approved(comment: Comment) -> bool:
    history = inspect(comment).attrs.status.history
    return bool(history.deleted) and history.deleted[0] != "approved"


def news_of_new(comment: Comment) -> tuple[str, int] | None:
    """The outbox row a newly stored response calls for, if any."""
    if comment.status == "pending" and comment.author_id is None:
        return (HELD, comment.id)
    if comment.status == "approved" and comment.type == "comment":
        return (VISIBLE, comment.id)
    return None


def news_of(session: Session) -> list[tuple[str, int]]:
    """The outbox rows the flush in progress calls for."""
    rows = [news_of_new(obj) for obj in session.new if isinstance(obj, Comment)]
    rows = [row for row in rows if row is not None]
    for obj in session.dirty:
        if (
            isinstance(obj, Comment)
            and obj.status == "approved"
            and obj.type == "comment"
            and _became_approved(obj)
        ):
            rows += [(VISIBLE, obj.id), (ASK_KIND, obj.id)]
    return rows


def _enqueue_news(session, flush_context) -> None:
    if not session.info.get(QUIET):
        enqueue_in_flush(session, news_of(session))


def _enqueue_news_of_inserted(session, response: Comment) -> None:
    row = news_of_new(response)
    if row is not None and not session.info.get(QUIET):
        enqueue_in_flush(session, [row])


def tell_author_held_again(comment: Comment) -> None:
    """Queue the held notice of a visible response that a new text (its
    writer's edit, its source's change) sent back to the queue."""
    if comment.author_id is None and not db.session.info.get(QUIET):
        enqueue(HELD, ref_id=comment.id)


def _ask_when_published(sender: Flask, post: Post, **extra: object) -> None:
    # Sent after the post's commit, on every save of a published post: one
    # query, and nothing written unless a writer waits.
    if ask_when_published(post.id):
        db.session.commit()


def init_app(app: Flask) -> None:
    """Register the comment mails and the listener that queues them."""
    for kind, renderer in RENDERERS.items():
        register(
            kind,
            renderer,
            BATCHES.get(kind, 1),
            kept=kind in TOLD_KINDS,
            spacing=SPACINGS.get(kind),
        )
    response_inserted.connect(_enqueue_news_of_inserted)
    post_published.connect(_ask_when_published, app)
    if event.contains(db.session, "after_flush", _enqueue_news):
        return  # the scoped session is shared by every app of the process
    event.listen(db.session, "after_flush", _enqueue_news)
