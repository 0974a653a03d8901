"""What the outbox hears about responses: held ones, and ones made visible
(with, for a held comment approved, the confirmations its writer waits for,
and for a post published, those of the comments approved while it was not).

A comment made visible (stored approved, or approved later) adds one outbox
row, in one INSERT of the same transaction: a rollback drops it. A held
response only carries a mark on its own row (``Comment.notice_due``), since a
wave of spam is the common case and each row there costs the request: the
mail job turns the marks into outbox rows before it sends
(``relay_held_marks``). Either way the worker renders the mail later
(``mails``), from the state of then.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import bindparam, event, exists, inspect, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ..core.signals import post_published, response_inserted
from ..extensions import db
from ..mail import (
    enqueue_in_flush,
    enqueue_selected,
    register,
    register_feeder,
    wake_after_commit,
)
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
    """The outbox row a newly stored response calls for at once, if any (a
    held one's notice goes by its mark)."""
    if comment.status == "approved" and comment.type == "comment":
        return (VISIBLE, comment.id)
    return None


def mark_for_held_notice(session: Session, comment: Comment) -> None:
    """Before its INSERT: mark a new response the author is to be told is
    held (None: the column's default, pending), and have the mail job run
    after the commit."""
    if comment.status in (None, "pending"):
        _mark_held(session, comment)


def _mark_held(session: Session, comment: Comment) -> None:
    # The author's own responses need no notice; bulk loaders stay quiet.
    if comment.author_id is None and not session.info.get(QUIET):
        comment.notice_due = True
        # Written even when the row was loaded marked: another worker's relay
        # may have taken that mark since, and an unchanged value is left out
        # of the UPDATE.
        if inspect(comment).persistent:
            flag_modified(comment, "notice_due")
        wake_after_commit(session)


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


def _mark_new_held(session, flush_context, instances) -> None:
    # Responses added to the session, not stored by ``add_response``.
    for obj in session.new:
        if isinstance(obj, Comment):
            mark_for_held_notice(session, obj)


def _enqueue_news(session, flush_context) -> None:
    if not session.info.get(QUIET):
        enqueue_in_flush(session, news_of(session))


def _enqueue_news_of_inserted(session, response: Comment) -> None:
    row = news_of_new(response)
    if row is not None and not session.info.get(QUIET):
        enqueue_in_flush(session, [row])


def tell_author_held_again(comment: Comment) -> None:
    """Mark for the held notice a visible response that a new text (its
    writer's edit, its source's change) sends back to the queue."""
    _mark_held(db.session(), comment)


_COMMENTS = Comment.__table__
_DUE = _COMMENTS.c.notice_due == true()
_ANY_DUE = select(exists().where(_DUE))
# Marks taken per transaction: after a backlog (the worker thread off, cron
# catching up) the write lock is held for one chunk at a time, not for all of
# them, so that comments keep being stored meanwhile.
RELAY_BATCH = 1000
_TAKE_MARKS = (
    update(_COMMENTS)
    # A row another transaction holds (an edit, a reply's fan-out sending its
    # mail) is left for the next run on PostgreSQL, instead of holding up the
    # whole outbox behind it; SQLite has one writer and no row locks.
    .where(
        _COMMENTS.c.id.in_(
            select(_COMMENTS.c.id)
            .where(_DUE)
            .order_by(_COMMENTS.c.id)
            .limit(bindparam("batch"))
            .with_for_update(skip_locked=True)
        )
    )
    # Nothing a reader or the author sees changes: the row keeps its time.
    .values(notice_due=False, updated_at=_COMMENTS.c.updated_at)
    .returning(_COMMENTS.c.id)
)


def relay_held_marks() -> int:
    """Turn the marks of held responses into held-notice rows of the outbox,
    ``RELAY_BATCH`` marks a commit; how many rows. A mark is taken by one
    UPDATE that returns it, so of two workers each takes a row once
    (PostgreSQL locks it; SQLite has one writer). A response moderated before
    the run needs no row. Nothing is written while no mark waits."""
    session = db.session()
    if not session.scalar(_ANY_DUE):
        return 0
    relayed = 0
    while True:
        taken = session.connection().execute(_TAKE_MARKS, {"batch": RELAY_BATCH})
        ids = taken.scalars().all()
        if ids:
            # Due since the response arrived, as if the request had queued it.
            # The ids are written into the statement: a thousand parameters
            # are more than SQLite before 3.32 takes.
            relayed += enqueue_selected(
                session,
                HELD,
                select(_COMMENTS.c.id, _COMMENTS.c.created_at).where(
                    _COMMENTS.c.id.in_(
                        bindparam("ids", ids, expanding=True, literal_execute=True)
                    ),
                    _COMMENTS.c.status == "pending",
                ),
            )
        session.commit()
        if len(ids) < RELAY_BATCH:
            return relayed


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
    register_feeder(relay_held_marks)
    response_inserted.connect(_enqueue_news_of_inserted)
    post_published.connect(_ask_when_published, app)
    if event.contains(db.session, "after_flush", _enqueue_news):
        return  # the scoped session is shared by every app of the process
    event.listen(db.session, "before_flush", _mark_new_held)
    event.listen(db.session, "after_flush", _enqueue_news)
