"""Email to the author: SMTP when configured, the app log otherwise.

Config keys (all optional): MAIL_SERVER, MAIL_PORT (25), MAIL_USERNAME,
MAIL_PASSWORD, MAIL_USE_TLS (STARTTLS), MAIL_FROM, MAIL_AUTHOR (where
notifications go; the post author's address when unset). Without MAIL_SERVER,
or without a recipient, each message is written to the app log at WARNING, so
a fresh install needs no mail server and the message is still seen.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import event

from .extensions import db
from .models import Comment, Post
from .text import strip_controls
from .urls import site_url

DEFAULT_FROM = "blog@localhost"
_QUEUED = "held_queued"  # session.info key: messages waiting for the commit
# session.info key: set by bulk loaders (WordPress import) whose held comments
# were already moderated elsewhere and must not flood the author's inbox.
QUIET = "no_held_notifications"


NO_SERVER = "MAIL_SERVER non impostato"
NO_RECIPIENT = "nessun destinatario: imposta MAIL_AUTHOR"


def one_line(text: str | None) -> str:
    """``text`` as a single line: no control characters, whitespace collapsed."""
    # str.split() also breaks on U+2028, U+2029 and NEL, which some mail
    # clients render as line breaks.
    return " ".join(strip_controls(text or "").split())


def quoted(text: str | None) -> list[str]:
    """Every line of ``text`` prefixed with "> ", so none passes for ours."""
    # splitlines() knows every line boundary a client might render (\v, \f,
    # \x1c-\x1e, NEL, U+2028/9); each one starts a quoted line.
    lines = strip_controls(text or "").splitlines() or [""]
    return [f"> {line}".rstrip() for line in lines]


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message; no To header when ``to`` is empty."""
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_FROM") or DEFAULT_FROM
    if to.strip():
        message["To"] = to.strip()
    # Names in the subject come from readers: one line, no control characters.
    message["Subject"] = one_line(subject)
    message.set_content(body)
    return message


def deliver(message: EmailMessage) -> None:
    """Send ``message`` through the configured SMTP server, or log it."""
    config = current_app.config
    server = config.get("MAIL_SERVER")
    problems = [] if message["To"] else [NO_RECIPIENT]
    if not server:
        problems.append(NO_SERVER)
    if problems:
        # WARNING, not INFO: under gunicorn the app logger's effective level is
        # the root's WARNING, so INFO would be dropped. WARNING reaches stderr
        # (gunicorn's error log) through Flask's default handler, or through
        # Python's last-resort handler when no handler is set up at all.
        current_app.logger.warning(
            "Email non inviata (%s):\n%s", "; ".join(problems), readable(message)
        )
        return
    with smtplib.SMTP(server, int(config.get("MAIL_PORT") or 25), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def readable(message: EmailMessage) -> str:
    """Headers and decoded body, for the log (str(message) may be base64)."""
    headers = [f"{name}: {message[name] or '-'}" for name in ("From", "To", "Subject")]
    return "\n".join([*headers, "", message.get_content().rstrip("\n")])


def held_message(comment: Comment) -> EmailMessage:
    """The notification for a held response: its text and moderation links."""
    # By id, not ``comment.post``: inside a flush the relationship may be unset.
    # The queue's own labels (imported here: the admin package imports this one).
    from .admin.actions import ACTIONS
    from .admin.queue import TYPE_LABELS

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
@event.listens_for(db.session, "after_flush")
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


@event.listens_for(db.session, "after_commit")
def _send_queued(session) -> None:
    queue = session.info.pop(_QUEUED, {})
    for comment_id, message in queue.items():
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("Notification for %s failed", comment_id)


@event.listens_for(db.session, "after_rollback")
def _drop_queued(session) -> None:
    session.info.pop(_QUEUED, None)
