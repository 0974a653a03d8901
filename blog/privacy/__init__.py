"""Privacy requests and retention: export or erase what the blog keeps about an
email address, and forget commenters' addresses after a while (#14)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``personal-data`` and ``purge-expired``, and the hourly purge by
    the background worker."""
    from . import cli, retention

    app.cli.add_command(cli.personal_data_group)
    app.cli.add_command(cli.purge_expired_command)
    app.cli.add_command(cli.purge_ips_command)
    app.before_request(retention.schedule_purge)
