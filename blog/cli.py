"""Command-line tasks: ``flask --app blog <command>``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from . import seeding
from .extensions import db


def init_app(app: Flask) -> None:
    """Register the blog's commands."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_command)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the tables that do not exist yet (keeps existing data)."""
    db.create_all()
    click.echo("Database ready.")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the original post, its 12 responses and the sample posts (idempotent)."""
    created = seeding.load_seed()
    db.session.commit()
    click.echo(f"Seed loaded: {created} new posts.")
