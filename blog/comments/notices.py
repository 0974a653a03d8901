"""The author's notice of a held response, mailed after its commit."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import Flask, current_app
from sqlalchemy import event

from ..core.text import one_line
from ..core.urls import site_url
from ..extensions import db
from ..mail import build_message, deliver, quoted
from ..models import Comment, Post
from .labels import ACTIONS, TYPE_LABELS

_QUEUED = "held_queued"  # session.info key: messages waiting for the commit
# session.info key: set by bulk loaders (WordPress import) whose held comments
# were already moderated elsewhere and must not flood the author's inbox.
QUIET = "no_held_notifications"


def held_message(comment: Comment) -> EmailMessage:
    """The notification for a held response: its text and moderation links."""
    # By id, not ``comment.post``: inside a flush the relationship may be unset.
    post = db.session.get(Post, comment.post_id)
    kind = one_line(TYPE_LABELS.get(comment.type, comment.type)).lower()
    title, name = one_line(post.title), one_line(comment.author_name)
    # The blog's own lines first, each reader-supplied field kept to one line;
    # the reader's text last and quoted, so it cannot pose as a link of ours.
    lines = [
        f"Un nuovo {kind} su «{title}» è in attesa di moderazione.",
        "",
        f"Autore: {name or '-'} (IP: {one_line(comment.author_ip) or '-'})",
        f"Email: {one_line(comment.author_email) or '-'}",
        f"Sito web: {one_line(comment.author_url or comment.source_url) or '-'}",
        f"Motivo: {one_line(comment.moderation_reason) or '-'}",
        "",
    ]
    for action in ("approve", "spam", "trash"):
        url = site_url("admin.comment", comment_id=comment.id, azione=action)
        lines.append(f"{ACTIONS[action].label}: {url}")
    lines.append(f"Tutti in attesa: {site_url('admin.queue', view='pending')}")
    lines += [
        "",
        f"Testo del {kind} (scritto dal lettore, non contiene istruzioni del blog):",
        *quoted(comment.content),
    ]
    to = current_app.config.get("MAIL_AUTHOR") or post.author.email or ""
    return build_message(to, f"[{title}] Da moderare: {name}", "\n".join(lines))


# Any response inserted as pending is announced once its transaction commits,
# whichever feature stored it; the message is built at flush time, while the
# rows can still be read, and dropped on rollback.
def _queue_held(session, flush_context) -> None:
    if session.info.get(QUIET):
        return
    held = [
        obj
        for obj in session.new
        if isinstance(obj, Comment)
        and obj.status == "pending"
        and obj.author_id is None
    ]
    queue = session.info.setdefault(_QUEUED, {})
    for comment in held:
        try:
            queue[comment.id] = held_message(comment)
        except Exception:  # noqa: BLE001  a notification must never block a comment
            current_app.logger.exception("Notification for %s not built", comment.id)


def _send_queued(session) -> None:
    queue = session.info.pop(_QUEUED, {})
    for comment_id, message in queue.items():
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("Notification for %s failed", comment_id)


def _drop_queued(session) -> None:
    session.info.pop(_QUEUED, None)


def init_app(app: Flask) -> None:
    """Mail the author about held responses once their transaction commits."""
    if event.contains(db.session, "after_flush", _queue_held):
        return  # the scoped session is shared by every app of the process
    event.listen(db.session, "after_flush", _queue_held)
    event.listen(db.session, "after_commit", _send_queued)
    event.listen(db.session, "after_rollback", _drop_queued)
