"""Email: messages built (``message``), kept in the outbox and sent (``outbox``).

Config keys (all optional): MAIL_SERVER, MAIL_PORT (25), MAIL_USERNAME,
MAIL_PASSWORD, MAIL_USE_TLS (STARTTLS), MAIL_FROM, MAIL_AUTHOR (where the
author's notices go; the post author's address when unset). Without
MAIL_SERVER, or without a recipient, each message is written to the app log at
WARNING, so a fresh install needs no mail server and the message is still seen.
Nothing is sent inside a request: a request stores a row in the outbox, and the
background worker or ``flask send-mail`` renders and sends it.
"""

from flask import Flask

from . import outbox
from .message import (
    NO_RECIPIENT,
    NO_SERVER,
    build_message,
    deliver,
    plain_text,
    quoted,
    readable,
    site_host,
)
from .outbox import enqueue, enqueue_in_flush, register, send_due

__all__ = [
    "NO_RECIPIENT",
    "NO_SERVER",
    "build_message",
    "deliver",
    "enqueue",
    "enqueue_in_flush",
    "plain_text",
    "quoted",
    "readable",
    "register",
    "send_due",
    "site_host",
]


def init_app(app: Flask) -> None:
    """Wake the background worker when a commit has put mail in the outbox."""
    outbox.init_app(app)
