"""Operator commands: ``flask --app blog upgrade-db``, ``backup``, ``restore``,
``copy-db``, ``compact-db``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from ..database import sqlite_path
from ..extensions import db
from .backup import BackupError, backup_database, compact_sqlite, restore_database
from .copy import CopyError, copy_database
from .schema import schema_behind, upgrade_database


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


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH (stop the blog first)."""
    url = db.engine.url
    if not yes:
        click.confirm(f"Replace everything in {url.database} with {path}?", abort=True)
    db.engine.dispose()  # this process's own connections see the new file
    try:
        pages = restore_database(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    behind = schema_behind()
    if behind is None:
        then = "Start the blog."
    else:
        then = (
            f"The backup is at schema revision {behind or '?'}, older than this "
            "code's: run upgrade-db, then start the blog."
        )
    click.echo(f"Restored {path} ({pages} SQLite pages). {then}")


@click.command("copy-db")
@click.argument("target_url")
@with_appcontext
def copy_db_command(target_url: str) -> None:
    """Copy every row into the empty database at TARGET_URL, made by upgrade-db
    (stop the blog first): the way from SQLite to PostgreSQL."""
    try:
        counts = copy_database(db.engine, target_url)
    except CopyError as error:
        raise click.ClickException(f"Nothing copied: {error}.") from error
    for table, count in counts.items():
        if count:
            click.echo(f"{table}: {count}")
    click.echo(
        f"Copied {sum(counts.values())} rows. Point BLOG_DATABASE_URL at the "
        "target and start the blog."
    )


@click.command("compact-db")
@click.option(
    "--wait",
    default=30.0,
    show_default=True,
    help="Seconds to wait for a write in progress.",
)
@with_appcontext
def compact_db_command(wait: float) -> None:
    """Give back to the disk the space of deleted rows (after emptying a spam
    wave): VACUUM on SQLite, in a quiet hour; PostgreSQL does it itself."""
    if db.engine.url.get_backend_name() != "sqlite":
        click.echo(
            "PostgreSQL reuses the space of deleted rows by itself (autovacuum); "
            "VACUUM FULL gives it back to the disk, locking each table meanwhile."
        )
        return
    path = sqlite_path(db.engine.url)
    if path is None:
        raise click.ClickException("This SQLite database is not a file: nothing to do.")
    try:
        before, after = compact_sqlite(path, wait)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Database compacted: {before} bytes before, {after} now.")


def init_app(app: Flask) -> None:
    """Register the operator commands."""
    app.cli.add_command(upgrade_db_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(copy_db_command)
    app.cli.add_command(compact_db_command)
