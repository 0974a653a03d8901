"""Operator commands: ``flask --app blog upgrade-db|backup``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from ..extensions import db
from .backup import BackupError, backup_database
from .schema import upgrade_database


@click.command("upgrade-db")
@with_appcontext
def upgrade_db_command() -> None:
    """Create or upgrade the schema with the migrations (adopts init-db databases)."""
    click.echo(upgrade_database())


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_command(path: str, force: bool) -> None:
    """Write a consistent copy of the SQLite database to PATH (pg_dump for Postgres)."""
    try:
        size = backup_database(db.engine.url, path, overwrite=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {path} ({size} bytes).")


def init_app(app: Flask) -> None:
    """Register the operator commands."""
    app.cli.add_command(upgrade_db_command)
    app.cli.add_command(backup_command)
