"""Privacy requests and retention: export or erase what the blog keeps about an
email address, and forget commenters' addresses after a while (#14)."""

from flask import Blueprint, Flask

from ..mail import register

bp = Blueprint("privacy", __name__)

from . import views  # noqa: E402,F401  (routes register on import)


def init_app(app: Flask) -> None:
    """Register ``personal-data`` and ``purge-expired``, the hourly purge by
    the background worker, and the mail with a reader's link to their data."""
    from . import cli, reader, retention

    register(reader.DATA_LINK_KIND, reader.render_data_link)

    app.cli.add_command(cli.personal_data_group)
    app.cli.add_command(cli.purge_expired_command)
    app.cli.add_command(cli.purge_ips_command)
    app.before_request(retention.schedule_purge)
