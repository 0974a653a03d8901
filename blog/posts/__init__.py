"""Public pages: home, post, archives (category, tag, author, date), search,
sitemap and robots, old addresses."""

from flask import Blueprint

bp = Blueprint("posts", __name__)

from . import archives, search, views  # noqa: E402,F401  (routes register on import)
