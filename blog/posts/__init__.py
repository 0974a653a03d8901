"""Public pages: home, post, category and author archives."""

from flask import Blueprint

bp = Blueprint("posts", __name__)

from . import archives, search, views  # noqa: E402,F401  (routes register on import)
