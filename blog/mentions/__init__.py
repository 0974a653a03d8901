"""Pingbacks and webmentions, received (/xmlrpc.php, /webmention) and sent."""

from flask import Blueprint, Flask

from ..core.signals import post_published, post_saved

# cli_group=None: `flask send-pings` and `flask process-mentions` at top level.
bp = Blueprint("mentions", __name__, cli_group=None)

from . import cli, views  # noqa: E402,F401  (routes and commands register on import)


def init_app(app: Flask) -> None:
    """Ping the links of every post the app publishes; keep the pings our own
    posts left on each other true to them."""
    post_published.connect(views.on_post_published, app)
    post_saved.connect(views.on_post_saved, app)
