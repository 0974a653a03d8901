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

from ..core.text import one_line, strip_controls

DEFAULT_FROM = "blog@localhost"


NO_SERVER = "MAIL_SERVER non impostato"
NO_RECIPIENT = "nessun destinatario: imposta MAIL_AUTHOR"


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
