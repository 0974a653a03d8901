"""Readers' comments and threaded replies."""

from flask import Blueprint

bp = Blueprint("comments", __name__)

from . import mail_views, owner_views, views  # noqa: E402,F401  (routes register on import)
