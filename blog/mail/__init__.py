"""Email: messages built and sent or logged (``message``, which lists the
MAIL_* keys), kept in the outbox and sent by the worker (``outbox``)."""

from flask import Flask

from . import outbox
from .message import (
    build_message,
    deliver,
    plain_text,
    quoted,
    readable,
)
from .outbox import (
    Postponed,
    enqueue,
    enqueue_in_flush,
    enqueue_selected,
    register,
    register_feeder,
    send_due,
    wake_after_commit,
)

__all__ = [
    "Postponed",
    "build_message",
    "deliver",
    "enqueue",
    "enqueue_in_flush",
    "enqueue_selected",
    "plain_text",
    "quoted",
    "readable",
    "register",
    "register_feeder",
    "send_due",
    "wake_after_commit",
]


def init_app(app: Flask) -> None:
    """Wake the background worker when a commit has put mail in the outbox."""
    outbox.init_app(app)
