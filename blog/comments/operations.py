"""One way in for every response: build, moderate, thread, store and commit it.

A reader's comment, the author's reply, a received pingback or webmention, an
imported or seeded comment: the caller describes it as a ``NewResponse`` of
plain values and ``add_response`` does the rest, as django-contrib-comments'
moderator does for its comments. The commit is made here, so that the session
listeners run the same way for every kind of response: ``blog.pagecache`` bumps
the content version, ``notices`` mails the author about a held one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..core.sanitize import clean_comment
from ..core.settings import ModerationSettings
from ..extensions import db
from ..models import Comment, Post, utcnow
from .moderation import Candidate, History, candidate_from, decide
from .threads import place_in_thread, start_thread_if_top_level

# Column widths: values from a request or a source are cut to fit, not refused.
_IP_LENGTH = 45
_USER_AGENT_LENGTH = 255


@dataclass(frozen=True)
class NewResponse:
    """A response about to be stored, as plain values."""

    content: str
    type: str = "comment"  # comment | pingback | webmention
    # Already sanitised HTML (a webmention's h-entry); None: made from ``content``.
    content_html: str | None = None
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


def _html(new: NewResponse) -> str:
    return (
        new.content_html if new.content_html is not None else clean_comment(new.content)
    )


def add_response(
    post: Post,
    new: NewResponse,
    settings: ModerationSettings | None = None,
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
        post=post,
        type=new.type,
        content=new.content,
        content_html=_html(new),
        author_name=new.author_name,
        author_email=new.author_email,
        author_url=new.author_url,
        author_ip=new.author_ip[:_IP_LENGTH],
        user_agent=new.user_agent[:_USER_AGENT_LENGTH],
        author_id=new.author_id,
        owner_token_hash=new.owner_token_hash,
        source_url=new.source_url,
        source_title=new.source_title,
        created_at=created,
        updated_at=created,
        legacy_id=new.legacy_id,
    )
    if new.status is not None:
        comment.status, comment.moderation_reason = new.status, new.moderation_reason
    else:
        if settings is None:
            raise ValueError("settings are needed to decide the status")
        decision = decide(candidate_of(new, comment), history or History(), settings)
        comment.status, comment.moderation_reason = decision.status, decision.reason
    place_in_thread(comment, new.parent)
    db.session.add(comment)
    db.session.flush()  # the id, for a top-level comment's own thread
    start_thread_if_top_level(comment)
    # Only bulk loaders (WordPress import, seed data) pass commit=False: a file
    # goes in whole or not at all, so they commit once at the end.
    if commit:
        db.session.commit()
    return comment


# How far from public each status is: an update may only move a response away.
_STRICTNESS = {"approved": 0, "pending": 1, "spam": 2}


def update_response(
    comment: Comment, new: NewResponse, settings: ModerationSettings
) -> None:
    """Refresh a stored ping with what its source says now, and commit.

    A new text goes through the moderation rules again: an approved response
    whose source now says something the rules hold or refuse leaves the page.
    """
    before = comment.content_html
    comment.source_title = new.source_title
    comment.content = new.content
    comment.content_html = _html(new)
    comment.author_name = new.author_name
    comment.author_url = new.author_url
    if new.created_at is not None:
        comment.created_at = new.created_at
    if comment.content_html != before and comment.status in _STRICTNESS:
        decision = decide(candidate_of(new, comment), History(), settings)
        if _STRICTNESS[decision.status] > _STRICTNESS[comment.status]:
            comment.status = decision.status
            comment.moderation_reason = f"modificata dalla sorgente: {decision.reason}"
    db.session.commit()
