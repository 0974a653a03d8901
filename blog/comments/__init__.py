"""Readers' comments and threaded replies."""

from flask import Blueprint, Flask

bp = Blueprint("comments", __name__)

from . import mail_views, notices, operations, owner_views, views  # noqa: E402,F401  (routes register on import)


def init_app(app: Flask) -> None:
    """Undo the responses a rollback drops (``operations``) and tell the outbox
    of new ones (``notices``)."""
    operations.init_app(app)
    notices.init_app(app)
