"""The author's back office: sign-in, moderation queue, posts and settings."""

from flask import Blueprint

# cli_group=None: `flask --app blog create-author`, not `flask admin ...`.
bp = Blueprint("admin", __name__, url_prefix="/admin", cli_group=None)

from . import (  # noqa: E402,F401  (routes and commands register on import)
    block_views,
    comment_views,
    mail_views,
    oldpath_views,
    post_views,
    privacy_views,
    settings_views,
    views,
)
