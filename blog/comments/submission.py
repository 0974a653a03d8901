"""Submitting a comment: the reader's refusals, then ``operations.add_response``.

Plain values in, plain values out: no request in any signature, so every rule
is exercised directly and through the form alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    Select,
    bindparam,
    exists,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from ..core.localtime import CLOCKS_AHEAD
from ..core.settings import CommentSettings
from ..database import fetch_one_row, session_connection
from ..extensions import db
from ..models import Comment, Post, content_head, content_tail, utcnow
from ..posts.queries import PostToAnswer
from ..web.ratelimit import budget_key, budget_used, over_budget
from .blocklist import block_question, matching_block, reason_for
from .identity import token_hash
from .moderation import (
    CLOSED_MESSAGE,
    REPLY_MISSING_MESSAGE,
    History,
    Refusal,
    block_keys,
    comments_closed,
    parent_values,
    refuse,
    refuse_reply,
)
from .operations import NewResponse, add_response, candidate_of
from .subscriptions import subscribe


@dataclass(frozen=True)
class Submission:
    """What the comment form sent, as the view read it (a reader's, or the
    signed-in author's): the parent still an id and the owner token still raw,
    both checked here, and the mails asked for. ``submit_comment`` makes a
    ``NewResponse`` of it."""

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
    # What became of the mail the reader asked for (``subscriptions.subscribe``).
    subscription: str = ""
    # The same text from the same browser again: ``comment`` is the first one.
    repeated: bool = False

    @property
    def comment_id(self) -> int | None:
        """The stored comment's id, read without reloading the committed row."""
        if self.comment is None:
            return None
        # The commit expired the object; its identity key still holds the id.
        return inspect(self.comment).identity[0]


def submit_comment(
    post: Post | PostToAnswer,
    submission: Submission,
    settings: CommentSettings,
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
    if refusal and history.duplicate and new.owner_token_hash:
        # Sent again from the same browser (back, then "Invia"): it arrived
        # the first time, and the writer is taken to it.
        earlier = earlier_copy(
            post.id, submission.parent_id, submission.content, new.owner_token_hash
        )
        if earlier is not None:
            return Outcome(comment=earlier, repeated=True)
    if refusal:
        return Outcome(refusal=refusal)
    try:
        comment = add_response(post, new, settings, history, commit=False)
    except IntegrityError:
        # The parent was deleted for good after it was read (the session has
        # been rolled back): the reply has nothing left to answer.
        if parent is None or db.session.get(Comment, submission.parent_id):
            raise
        return Outcome(refusal=Refusal(422, REPLY_MISSING_MESSAGE))
    # Spam asks for nothing; the author needs no mail about the own blog.
    subscription = ""
    if submission.notify and comment.status != "spam" and comment.author_id is None:
        subscription = subscribe(comment, submission.notify, now)
    db.session.commit()
    if submission.author_id is None:  # not the comment's: expired by the commit
        _count_network_pace(submission.ip, settings.flood_seconds)
    return Outcome(comment=comment, subscription=subscription)


def earlier_copy(
    post_id: int, parent_id: int | None, content: str, owner_hash: str
) -> Comment | None:
    """The comment with this text the browser ``owner_hash`` stored on the
    post, in the same place (the same comment answered, or none), still held
    or published: the duplicate rule's, narrowed to the one sent again. The
    same "Grazie!" to another comment is no repeat of this one."""
    return db.session.scalar(
        select(Comment)
        .where(
            *_same_text_in_place(
                bindparam("post_id", post_id),
                bindparam("parent_id", parent_id),
                bindparam("content", content),
            ),
            Comment.owner_token_hash == owner_hash,
            Comment.status.in_(("approved", "pending")),
        )
        .order_by(Comment.id.desc())
        .limit(1)
    )


def refuse_closed(
    post: Post | PostToAnswer, settings: CommentSettings, now: datetime | None = None
) -> Refusal | None:
    """The 403 refusal for a post that takes no more comments, or None."""
    closed = comments_closed(
        post.comment_status, post.published_at, settings, now or utcnow()
    )
    return Refusal(403, CLOSED_MESSAGE) if closed else None


def _latest_comment_at(column):
    # A scalar subquery per column: each is one indexed look-up, where an OR of
    # both would scan the table.
    return (
        select(Comment.created_at)
        .where(
            column == bindparam(column.key),
            Comment.type == "comment",
            # Not an imported comment dated ahead: it would hold its writer
            # back under the flood rule until then, and hide the latest.
            Comment.created_at <= bindparam("pace_until"),
        )
        .order_by(Comment.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def _same_text_in_place(post_id, parent_id, content) -> tuple:
    """The duplicate rule's comparison: the same text on the same post,
    answering the same comment (or none), as WordPress's rule has it."""
    return (
        Comment.post_id == post_id,
        # The text compared as head (by the index) and tail: a plain
        # ``content = :text`` lets SQLite put the value in the head's
        # expression, which then no longer names the index.
        content_head(Comment.content) == content_head(content),
        content_tail(Comment.content) == content_tail(content),
        # Through coalesce, which no index serves: the text's index must find
        # the comment, never the parents' (after an ANALYZE, SQLite could take
        # that one, and read every thread's head of the site for a new one).
        func.coalesce(Comment.parent_id, 0) == func.coalesce(parent_id, 0),
    )


@dataclass(frozen=True)
class _HistoryShape:
    """Which questions a sender's history asks: a handful of combinations."""

    by_email: bool
    by_author: bool
    pace: tuple[str, ...]  # the columns whose latest comment is looked up
    check_proof: bool
    block_kinds: tuple[str, ...]


@lru_cache(maxsize=128)
def _history_statement(shape: _HistoryShape) -> Select:
    # Built once per shape, the values bound at execution: building this
    # statement cost SQLAlchemy more than SQLite spends running it.
    same_sender = [Comment.author_name == bindparam("name")]
    if shape.by_email:
        same_sender.append(Comment.author_email == bindparam("email"))
    if shape.by_author:
        same_sender.append(Comment.author_id == bindparam("author_id"))
    columns = [
        exists().where(
            *_same_text_in_place(
                bindparam("post_id"), bindparam("parent_id"), bindparam("content")
            ),
            Comment.status != "trash",
            or_(*same_sender),
        )
    ]
    columns += [_latest_comment_at(getattr(Comment, name)) for name in shape.pace]
    if shape.check_proof:
        columns.append(
            exists().where(
                Comment.owner_token_hash == bindparam("owner_hash"),
                Comment.status == "approved",
            )
        )
    block = matching_block(shape.block_kinds)
    if block is not None:
        columns.append(block)
    return select(*columns)


PACE = "comment-pace"


def _paced_network(ip: str) -> str | None:
    # An IPv6 client holds a whole /64 and could write from a new address
    # each time: its network gets the pace an IPv4 address gets, counted in
    # the rate limiter's storage (the rows keep the address as it came).
    network = budget_key(ip)
    return None if network == ip else network


def _network_too_fast(ip: str, flood_seconds: int) -> bool:
    network = _paced_network(ip)
    return network is not None and budget_used(PACE, network, 1, flood_seconds)


def _count_network_pace(ip: str, flood_seconds: int) -> None:
    # Only a comment stored counts: a refused one (too fast, a duplicate)
    # may be sent again at once, as from an IPv4 address.
    network = _paced_network(ip)
    if network is not None and flood_seconds > 0:
        over_budget(PACE, network, 1, flood_seconds)


def sender_history(
    post: Post | PostToAnswer,
    submission: Submission,
    settings: CommentSettings,
    owner_hash: str,
    now: datetime,
) -> History:
    """What the database knows about this sender (duplicates, pace, proof), read
    in one statement of indexed look-ups."""
    # The pace matters only while the flood rule is on.
    pace = tuple(
        column
        for column, value in (
            ("author_ip", submission.ip),
            ("author_email", submission.email),
        )
        if value and settings.flood_seconds > 0
    )
    check_proof = bool(settings.auto_approve_known and owner_hash)
    # The author is never blocked; anybody else is looked up in the same
    # statement, so the blocklist costs the form no query of its own.
    keys = set()
    if submission.author_id is None:
        keys = block_keys(submission.email, (submission.url,), submission.ip)
    block_kinds, block_values = block_question(keys)
    shape = _HistoryShape(
        by_email=bool(submission.email),
        by_author=submission.author_id is not None,
        pace=pace,
        check_proof=check_proof,
        block_kinds=block_kinds,
    )
    values = {
        "post_id": post.id,
        "parent_id": submission.parent_id,
        "content": submission.content,
        "name": submission.name,
        "email": submission.email,
        "author_id": submission.author_id,
        "author_ip": submission.ip,
        "author_email": submission.email,
        "owner_hash": owner_hash,
        "pace_until": now + CLOCKS_AHEAD,
        **block_values,
    }
    row = fetch_one_row(session_connection(), _history_statement(shape), values)
    last = max((moment for moment in row[1 : 1 + len(pace)] if moment), default=None)
    since_last = (now - last).total_seconds() if last else None
    if pace and _network_too_fast(submission.ip, settings.flood_seconds):
        since_last = 0.0
    after_pace = row[1 + len(pace) :]
    return History(
        duplicate=bool(row[0]),
        seconds_since_last=since_last,
        proven_known=bool(after_pace[0]) if check_proof else False,
        blocked=reason_for(keys, after_pace[-1]) if block_kinds else "",
    )
