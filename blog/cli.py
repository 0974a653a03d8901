"""Command-line tasks: ``flask --app blog <command>``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .disqus import commands as disqus_commands
from .extensions import db
from .mail import send_due
from .ops import commands as ops_commands
from .ops.schema import upgrade_database
from .seed.loader import load_seed
from .wxr import commands as wxr_commands


def init_app(app: Flask) -> None:
    """Register the blog's commands."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(send_mail_command)
    ops_commands.init_app(app)
    wxr_commands.init_app(app)
    disqus_commands.init_app(app)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the schema, keeping existing data (same as upgrade-db)."""
    click.echo(upgrade_database())


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the original post, its 12 responses and the sample posts (idempotent)."""
    created = load_seed()
    db.session.commit()
    click.echo(f"Seed loaded: {created} new posts.")


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send the mail due in the outbox (from cron when the worker thread is off)."""
    click.echo(f"Email inviate: {send_due()}.")
