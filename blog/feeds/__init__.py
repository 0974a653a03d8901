"""RSS 2.0 and Atom feeds: posts, a post's responses, recent comments."""

from flask import Blueprint

bp = Blueprint("feeds", __name__)

from . import views  # noqa: E402,F401  (routes register on import)
