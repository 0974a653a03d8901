"""One email message: built with the headers every mail of ours carries, sent
by SMTP or written to the log.

Config keys (all optional): MAIL_SERVER, MAIL_PORT (25), MAIL_USERNAME,
MAIL_PASSWORD, MAIL_USE_TLS (STARTTLS), MAIL_FROM, MAIL_AUTHOR (where the
author's notices go; the post author's address when unset). Without
MAIL_SERVER, or without a recipient, each message is noted in the app log at
WARNING (its subject and how many recipients; the whole message in debug mode,
as under ``make run``), so a fresh install needs no mail server.
Messages are never sent inside a request: ``outbox`` stores them and the
background worker or ``flask send-mail`` sends them.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app

from ..core.text import ascii_domain, one_line, strip_controls
from ..core.urls import site_host

DEFAULT_FROM = "blog@localhost"

# RFC 2369: these hold addresses in angle brackets, which clients read as they
# are; Python would write a word longer than a line (a tokened link always is)
# as an RFC 2047 encoded word, which no client reads as an address there.
_WRITTEN_AS_IS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


class _MailPolicy(EmailPolicy):
    """Python's default policy, with the list headers written on one line."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _WRITTEN_AS_IS and str(value).isascii():
            # One line (``one_line`` made it so), under RFC 5322's 998 octets.
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _WRITTEN_AS_IS and str(value).isascii():
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy()


# Python's header parser decodes RFC 2047 encoded words in the values it is
# given, and some builds write a decoded CR or LF back out as a line break: a
# name "=?utf-8?q?x=0D=0AReply-To:...?=" would add headers or a body. A word
# joiner after "=" keeps such text as text (no reader can tell the difference).
_ENCODED_WORD_START = "=?"
_KEPT_AS_TEXT = "=\u2060?"


def _header_text(value: str) -> str:
    """``value`` as one line that no header parser reads as encoded words."""
    return one_line(value).replace(_ENCODED_WORD_START, _KEPT_AS_TEXT)


class UnsafeHeaderError(ValueError):
    """A header that would not stay one line once written: never sent."""


def _set_header(message: EmailMessage, name: str, value: str) -> None:
    message[name] = value
    # The value as the message will write it: an address list or a value
    # reached through some other decoding must still be one line.
    written = str(message[name])
    if "\r" in written or "\n" in written:
        raise UnsafeHeaderError(f"{name}: {written!r}")


NO_SERVER = "MAIL_SERVER non impostato"
NO_RECIPIENT = "nessun destinatario: imposta MAIL_AUTHOR"


def quoted(text: str | None) -> list[str]:
    """Every line of ``text`` prefixed with "> ", so none passes for ours."""
    # splitlines() knows every line boundary a client might render (\v, \f,
    # \x1c-\x1e, NEL, U+2028/9); each one starts a quoted line.
    lines = strip_controls(text or "").splitlines() or [""]
    return [f"> {line}".rstrip() for line in lines]


def sender(config: Mapping[str, object]) -> Address | str:
    """MAIL_FROM as the operator wrote it when it names its sender; a bare
    address goes out under the site's name, which mail clients show in the
    inbox where they would otherwise show "blog"."""
    value = str(config.get("MAIL_FROM") or DEFAULT_FROM)
    name, address = parseaddr(value)
    if name or "@" not in address:
        return value
    return Address(one_line(str(config.get("SITE_NAME") or "")), addr_spec=address)


def build_message(
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A UTF-8 message, plain text (and HTML when given); no To header when
    ``to`` is empty. Every message says it was sent by a machine."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender(current_app.config)
    if to.strip():
        _set_header(message, "To", ascii_domain(one_line(to)))
    # Names and titles in the subject come from readers and imports.
    _set_header(message, "Subject", _header_text(subject))
    # +0000, not formatdate's -0000 ("zone unknown", RFC 5322 3.3).
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=site_host())
    # RFC 3834: no vacation responder should answer it.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        _set_header(message, name, _header_text(value))
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def deliver(message: EmailMessage) -> None:
    """Send ``message`` through the configured SMTP server, or log it; SMTP and
    network errors are raised for the outbox to retry."""
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
        # The whole message only in debug mode: it holds readers' addresses
        # and links that act without signing in, which a log shared with
        # others, and kept longer than the blog keeps them, must not.
        shown = readable(message) if current_app.debug else _summary(message)
        current_app.logger.warning(
            "Email non inviata (%s):\n%s", "; ".join(problems), shown
        )
        return
    with smtplib.SMTP(server, int(config.get("MAIL_PORT") or 25), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            # The certificate and the server's name checked against the
            # system's authorities: smtplib's own default checks neither, and
            # would hand the password to whoever answers in between.
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def _summary(message: EmailMessage) -> str:
    recipients = len([a for a in str(message["To"] or "").split(",") if a.strip()])
    return (
        f"Oggetto: {message['Subject']}\nDestinatari: {recipients} (indirizzi e "
        "testo fuori dal log; `flask --debug` li mostra)"
    )


def plain_text(message: EmailMessage) -> str:
    """The text/plain part of ``message``, decoded."""
    part = message.get_body(preferencelist=("plain",))
    return (part or message).get_content()


def readable(message: EmailMessage) -> str:
    """Headers and decoded text, for the log (str(message) may be base64)."""
    headers = [f"{name}: {message[name] or '-'}" for name in ("From", "To", "Subject")]
    return "\n".join([*headers, "", plain_text(message).rstrip("\n")])
