"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from helpers_servers import free_port
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from blog.mail import plain_text, send_due


@dataclass
class Received:
    """One message as the server got it: envelope recipients and the message."""

    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes = b""  # the message's bytes as the server received them

    @property
    def text(self) -> str:
        return plain_text(self.message)

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    def link(self, label: str) -> str:
        """The path of the URL on the text line starting with ``label: ``."""
        [url] = [
            line.split(": ", 1)[1]
            for line in self.text.splitlines()
            if line.startswith(f"{label}: ")
        ]
        return path_of(url)


def path_of(url: str) -> str:
    """The path and query of one of our absolute URLs."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Mailbox:
    """What the SMTP server received, oldest first."""

    port: int
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(
            Received(list(envelope.rcpt_tos), message, envelope.content)
        )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        """The messages received for ``address``."""
        return [r for r in self.received if address in r.rcpt_tos]

    def take(self) -> list[Received]:
        """The messages received so far, forgotten by the mailbox."""
        taken, self.received = self.received, []
        return taken


@contextmanager
def smtp_server(**options):
    """An aiosmtpd server on a free port of 127.0.0.1, stopped on exit;
    ``options`` go to aiosmtpd's SMTP (STARTTLS, authentication)."""
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def send_mail(app, now=None) -> int:
    """Run the outbox as the worker would: every message due by ``now``."""
    with app.app_context():
        return send_due(now)


def signed_days_ago(app, purpose: str, value: object, days: float) -> str:
    """``value`` signed as the links of our mails for ``purpose`` are
    (``blog.comments.mailtokens``), as if ``days`` ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 24 * 3600)

    serializer = URLSafeTimedSerializer(
        app.secret_key, salt=f"blog.mail.{purpose}", signer=Earlier
    )
    return serializer.dumps(value)


def aged(app, purpose: str, token: str, days: float) -> str:
    """The same link as ``token`` (a token of a mail we sent), signed ``days`` ago."""
    value = URLSafeTimedSerializer(app.secret_key, salt=f"blog.mail.{purpose}").loads(
        token
    )
    return signed_days_ago(app, purpose, value, days)
