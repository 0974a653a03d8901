"""One way in for every response: build, moderate, thread, store and commit it.

A reader's comment, the author's reply, a received pingback or webmention, an
imported or seeded comment: the caller describes it as a ``NewResponse`` of
plain values and ``add_response`` does the rest, as django-contrib-comments'
moderator does for its comments. The response is stored by one INSERT and
announced by the ``response_inserted`` signal, so that the same listeners run
for every kind of response: ``blog.pagecache`` bumps the content version at
the commit, ``notices`` puts the author's notice of a held one, or the
subscribers' news of a visible one, in the mail outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from weakref import WeakSet

from flask import Flask
from sqlalchemy import ColumnElement, delete, event, exists, inspect, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (
    Session,
    aliased,
    make_transient,
    make_transient_to_detached,
)

from ..core.sanitize.comment import clean_comment
from ..core.settings import CommentSettings
from ..core.signals import response_inserted
from ..database import begin_sqlite_write, insert_row
from ..extensions import db
from ..models import Comment, Post, utcnow
from ..posts.queries import PostToAnswer
from .blocklist import blocked_sender
from .moderation import Candidate, History, Refusal, candidate_from, decide
from .notices import mark_for_held_notice, tell_author_held_again
from .ownership import has_replies, refuse_change
from .subscriptions import end_subscriptions_asked_with
from .threads import hold_for_change, lift_replies, place_in_thread

# Column widths: values from a request or a source are cut to fit, not refused.
_IP_LENGTH = 45
_USER_AGENT_LENGTH = 255


@dataclass(frozen=True)
class NewResponse:
    """A response from any source (the form, a ping, an import, the seed) about
    to be stored, its parent loaded: what ``add_response`` takes. The rules see
    it as a ``moderation.Candidate``."""

    content: str
    type: str = "comment"  # comment | pingback | webmention
    author_name: str = ""
    author_email: str = ""
    author_url: str = ""
    author_ip: str = ""
    user_agent: str = ""
    author_id: int | None = None  # the signed-in author wrote it
    owner_token_hash: str = ""
    source_url: str | None = None
    source_title: str = ""
    parent: Comment | None = None
    created_at: datetime | None = None  # None: now
    # Imports and seed data arrive already moderated: their status is kept and
    # the rules are not asked.
    status: str | None = None
    moderation_reason: str = ""
    legacy_id: int | None = None  # its id on the blog it was imported from
    # Facts for the rules only, never stored.
    internal: bool = False  # a ping from one of our own posts
    honeypot: str = ""
    seconds_to_submit: float | None = None


def candidate_of(new: NewResponse, comment: Comment | None = None) -> Candidate:
    """What the rules see: ``comment`` as built from ``new``, or ``new`` alone."""
    # Before the text is cleaned (the refusals) there is no comment yet, and
    # the candidate has no HTML: no refusal looks at it.
    return candidate_from(
        comment if comment is not None else new,
        by_author=new.author_id is not None,
        internal=new.internal,
        honeypot=new.honeypot,
        seconds_to_submit=new.seconds_to_submit,
    )


def with_blocklist(new: NewResponse, history: History | None) -> History:
    """``history`` with what the author's blocklist says of ``new``'s sender.

    One indexed query, unless the history has asked already (the comment form
    asks within its one statement); none for the author's own responses and
    internal pings, which no block can concern.
    """
    history = history or History()
    if history.blocked is not None:
        return history
    if new.author_id is not None or new.internal:
        return replace(history, blocked="")
    reason = blocked_sender(
        new.author_email, (new.author_url, new.source_url), new.author_ip
    )
    return replace(history, blocked=reason)


def add_response(
    post: Post | PostToAnswer,
    new: NewResponse,
    settings: CommentSettings | None = None,
    history: History | None = None,
    *,
    commit: bool = True,
) -> Comment:
    """Store ``new`` on ``post`` with the status the rules choose, and commit.

    ``history`` is what the database knows of the sender (the comment form's
    rules); ``settings`` may be None only when ``new`` brings its own status.
    """
    created = new.created_at or utcnow()
    comment = Comment(
        post_id=post.id,
        type=new.type,
        content=new.content,
        content_html=clean_comment(new.content),
        author_name=new.author_name,
        author_email=new.author_email,
        author_url=new.author_url,
        author_ip=new.author_ip[:_IP_LENGTH],
        # A header value: a lenient server may pass a NUL on (PostgreSQL
        # refuses it in text); the form's fields are refused with one.
        user_agent=new.user_agent.replace("\0", "")[:_USER_AGENT_LENGTH],
        author_id=new.author_id,
        owner_token_hash=new.owner_token_hash,
        source_url=new.source_url,
        source_title=new.source_title,
        created_at=created,
        updated_at=created,
        legacy_id=new.legacy_id,
    )
    if isinstance(post, Post):  # one made in this transaction may have no id yet
        comment.post = post
    if new.status is not None:
        comment.status, comment.moderation_reason = new.status, new.moderation_reason
    else:
        if settings is None:
            raise ValueError("settings are needed to decide the status")
        history = with_blocklist(new, history)
        decision = decide(candidate_of(new, comment), history, settings)
        comment.status, comment.moderation_reason = decision.status, decision.reason
    if comment.status in EMPTYABLE:
        # Spam and the trash are kept COMMENT_TRASH_DAYS from their arrival
        # here, not from an imported comment's own date.
        comment.updated_at = utcnow()
    place_in_thread(comment, new.parent)
    mark_for_held_notice(db.session(), comment)
    _insert(comment)
    # Bulk loaders (WordPress import, seed data) pass commit=False, so a file
    # goes in whole or not at all; so does the comment form, whose reader's
    # subscription is stored in the same commit as the comment.
    if commit:
        db.session.commit()
    return comment


_COLUMNS = frozenset(column.key for column in Comment.__table__.columns) - {"id"}
# Columns with no default: given as None, so that every attribute is loaded.
_WITHOUT_DEFAULT = tuple(
    column.key
    for column in Comment.__table__.columns
    if column.default is None and column.key in _COLUMNS
)
_INSERT = Comment.__table__.insert()
_INSERTED = "responses_inserted"  # session.info key: this transaction's INSERTs


def _insert(comment: Comment) -> None:
    """Store the new ``comment`` with one INSERT, then keep it in the session as
    if a query had loaded it: replies and subscriptions hang from its id.

    The unit of work cost a comment POST more than everything else it writes
    (its bookkeeping of attribute history, not the SQL), so a response skips
    it; ``response_inserted`` tells the listeners a flush would have told, and
    a rollback or a failed INSERT ends as a failed flush would.
    """
    session = db.session()
    if comment.post_id is None:
        session.flush()  # a post made in the same transaction (seed, import)
        comment.post_id = comment.post.id
    values = {k: v for k, v in inspect(comment).dict.items() if k in _COLUMNS}
    for key in _WITHOUT_DEFAULT:
        values.setdefault(key, None)
    try:
        connection = session.connection()
        begin_sqlite_write(connection)
        new_id, given = insert_row(connection, _INSERT, values)
    except DBAPIError:
        # As after a failed flush: nothing of the transaction may be committed.
        session.rollback()
        raise
    # The defaults the INSERT filled in, so that no attribute is left to load:
    # written as a load writes them, past the attribute events (a new row has
    # no history to keep), then committed by make_transient_to_detached.
    loaded = inspect(comment).dict
    for key, value in given.items():
        if key in _COLUMNS:
            loaded[key] = value
    loaded["id"] = new_id
    make_transient_to_detached(comment)
    session.add(comment)
    # Weakly: a bulk import's responses need not outlive its own references.
    session.info.setdefault(_INSERTED, WeakSet()).add(comment)
    response_inserted.send(session, response=comment)


def _forget_inserted(session: Session) -> None:
    # Before the rollback expires what the session holds: the rows are gone, so
    # their objects leave the session with their values, as flushed ones do.
    for comment in session.info.pop(_INSERTED, ()):
        if comment in session:
            session.expunge(comment)
            make_transient(comment)


def _kept_inserted(session: Session) -> None:
    session.info.pop(_INSERTED, None)


def init_app(app: Flask) -> None:
    """Let a rollback undo the responses stored by ``_insert``."""
    for name, listener in (
        ("after_rollback", _forget_inserted),
        ("after_commit", _kept_inserted),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


# How far from public each status is: an update may only move a response away.
_STRICTNESS = {"approved": 0, "pending": 1, "spam": 2}


def _take_new_text(
    comment: Comment,
    new: NewResponse,
    settings: CommentSettings,
    why: str,
    history: History | None = None,
    *,
    shown_elsewhere_changed: bool = False,
) -> None:
    """Store ``new``'s text on ``comment``; a changed text (or, with
    ``shown_elsewhere_changed``, another shown field) is judged again, and the
    status may only move away from the page. A response sent back to the queue
    is news for the author, as a new held one is."""
    html = clean_comment(new.content)
    changed = shown_elsewhere_changed or html != comment.content_html
    if changed:
        # Judged against its status as it is now that nobody else may change
        # it: the author's "Spam" while the source was fetched is not undone.
        hold_for_change(Comment.id == comment.id)
        db.session.refresh(comment, ["status", "status_before"])
    comment.content = new.content
    comment.content_html = html
    if changed and comment.status in _STRICTNESS:
        history = with_blocklist(new, history)
        decision = decide(candidate_of(new, comment), history, settings)
        if _STRICTNESS[decision.status] > _STRICTNESS[comment.status]:
            if decision.status == "spam":
                end_subscriptions_asked_with(comment)
            if decision.status == "pending":
                tell_author_held_again(comment)
            comment.status = decision.status
            comment.moderation_reason = f"{why}: {decision.reason}"


def update_response(
    comment: Comment, new: NewResponse, settings: CommentSettings
) -> None:
    """Refresh a stored ping with what its source says now, and commit.

    Whatever the page shows of it that changed (excerpt, title, author, link)
    goes through the moderation rules again: an approved response whose source
    now says something the rules hold or refuse leaves the page.
    """
    shown = ("source_title", "author_name", "author_url")
    changed = any(getattr(comment, key) != getattr(new, key) for key in shown)
    comment.source_title = new.source_title
    comment.author_name = new.author_name
    comment.author_url = new.author_url
    if new.created_at is not None:
        comment.created_at = new.created_at
    _take_new_text(
        comment,
        new,
        settings,
        "modificata dalla sorgente",
        shown_elsewhere_changed=changed,
    )
    db.session.commit()


def edit_response(
    comment: Comment, text: str, settings: CommentSettings, now: datetime
) -> None:
    """Its writer's new text for ``comment``, cleaned and judged like a new
    comment's, and commit. Where the author approves every comment, an approved
    comment whose text changes goes back to the queue, unless the rules trust
    returning writers (its own approval proves this browser known): the page
    shows only text the author let through."""
    new = NewResponse(
        content=text,
        author_name=comment.author_name,
        author_email=comment.author_email,
        author_url=comment.author_url,
        author_ip=comment.author_ip,
        user_agent=comment.user_agent,
    )
    known = History(proven_known=comment.status == "approved")
    _take_new_text(comment, new, settings, "modificato da chi scrive", known)
    comment.edited_at = now
    db.session.commit()


# Statuses the author may empty for good; leaving them keeps where a response was.
EMPTYABLE = ("spam", "trash")


Reply = aliased(Comment)


def delete_for_good(which: ColumnElement[bool]) -> int:
    """Delete the responses ``which`` selects, their replies lifted a level
    first; how many. The caller commits."""
    hold_for_change(which)
    # Chosen before any reply is lifted: lifting changes a reply's row, and
    # a reply chosen too (in the trash under a parent in the trash) would no
    # longer match a rule on its time.
    ids = db.session.scalars(select(Comment.id).where(which)).all()
    deleted = 0
    for start in range(0, len(ids), _DELETE_BATCH):
        chosen = Comment.id.in_(ids[start : start + _DELETE_BATCH])
        answered = select(Comment).where(
            chosen, exists().where(Reply.parent_id == Comment.id)
        )
        lift_replies(db.session.scalars(answered).all())
        deleted += db.session.execute(
            delete(Comment).where(chosen),
            execution_options={"synchronize_session": False},
        ).rowcount
    return deleted


_DELETE_BATCH = 500  # ids a statement names, well under SQLite's bound


def empty_expired(now: datetime, days: int) -> int:
    """Delete what has sat in spam or the trash for more than ``days`` (0
    keeps it), as WordPress empties its trash: the name, email and text of a
    comment its writer deleted are not kept for ever. The caller commits."""
    if days <= 0:
        return 0
    return delete_for_good(
        Comment.status.in_(EMPTYABLE)
        & (Comment.updated_at < now - timedelta(days=days))
        # A ping's row is the author's verdict on its source: deleted, the
        # source could send it again and be judged anew. Its IP goes with
        # COMMENT_IP_RETENTION_DAYS; the rest is what the source published.
        & (Comment.type == "comment")
    )


def move(comment: Comment, status: str) -> None:
    """Change ``comment``'s status, remembering where it came from."""
    if status == "spam" and comment.status != "spam":
        end_subscriptions_asked_with(comment)
    if status in EMPTYABLE and comment.status not in EMPTYABLE:
        comment.status_before = comment.status
    if status not in EMPTYABLE:
        comment.status_before = ""
    comment.status = status


WITHDRAWN_REASON = "eliminato da chi l'ha scritto"
ORPHANED_REASON = "risponde a un commento eliminato da chi l'aveva scritto"


def withdraw_response(
    comment: Comment, owner_hash: str, now: datetime, edit_seconds: int
) -> Refusal | None:
    """Its writer (the browser ``owner_hash``) deletes ``comment``: to the
    trash, restorable by the author, and the mails asked with it end; commit.
    The refusal, and nothing changed, if the rules of ``refuse_change`` no
    longer allow it (a reply the writer sees, the author's "Spam" meanwhile).

    Replies still held go with it (a reply the writer sees would have kept
    the comment from them): approved, they would answer nothing on the page,
    and be counted there unseen. "Ripristina" brings each back to the queue.
    """
    # The comment's own row too: on PostgreSQL a reply still being stored
    # holds its parent's key, and only a lock on the parent waits for it.
    hold_for_change(or_(Comment.id == comment.id, Comment.parent_id == comment.id))
    # Asked again under the lock, of the comment as it is now: an approval
    # between the writer's check and here would leave its reply answering
    # nothing, and the author's "Spam" would be undone.
    db.session.refresh(comment, ["status", "status_before"])
    refusal = refuse_change(
        comment, owner_hash, now, edit_seconds, has_replies(comment, owner_hash)
    )
    if refusal is not None:
        db.session.rollback()
        return refusal
    held = db.session.scalars(
        select(Comment).where(
            Comment.parent_id == comment.id, Comment.status == "pending"
        )
    ).all()
    end_subscriptions_asked_with(comment)
    move(comment, "trash")
    comment.moderation_reason = WITHDRAWN_REASON
    for reply in held:
        move(reply, "trash")
        reply.moderation_reason = ORPHANED_REASON
    db.session.commit()
    return None
