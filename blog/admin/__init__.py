"""The author's back office: sign-in, moderation queue, posts and settings."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401  (routes register on import)
    block_views,
    comment_views,
    mail_views,
    oldpath_views,
    post_views,
    privacy_views,
    settings_views,
    views,
)
