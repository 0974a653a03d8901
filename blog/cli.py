"""Command-line tasks: ``flask --app blog <command>``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError, IntegrityError

from .database import (
    LOCK_TIMEOUT,
    database_hint,
    error_reason,
    names_an_older_schema,
)
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
    for command in app.cli.commands.values():
        _report_database_errors(command)


def _report_database_errors(command: click.Command) -> None:
    # The command objects are the modules', shared by every app: wrapped once.
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _report_database_errors(subcommand)
    callback = command.callback
    if callback is not None and not getattr(callback, "reports_errors", False):
        command.callback = database_errors_in_one_line(callback)


def database_errors_in_one_line(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with a database it cannot reach, or a file it cannot write,
    said in one line (click's "Error: …", status 1) instead of a traceback."""

    @wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except DBAPIError as error:
            raise click.ClickException(_database_problem(error)) from error
        except OSError as error:
            raise click.ClickException(str(error)) from error

    run.reports_errors = True  # type: ignore[attr-defined]
    return run


def _database_problem(error: DBAPIError) -> str:
    reason = error_reason(error)
    if names_an_older_schema(reason):
        return (
            f"the database has no blog tables yet, or older ones ({reason}): run "
            "'.venv/bin/flask --app blog upgrade-db' first."
        )
    if isinstance(error, IntegrityError):
        # Two imports at once, or the server writing the same row meanwhile:
        # this run's transaction is rolled back whole.
        return (
            f"a row this command wrote exists already ({reason}): another "
            "process (a second import, the server) may have written it "
            "meanwhile. What the command had not committed was rolled back; "
            "run it again."
        )
    if "lock timeout" in reason:
        # LOCK_TIMEOUT on PostgreSQL: the database answers, a table is busy.
        return (
            f"a table stayed in use by another process for {LOCK_TIMEOUT} "
            f"({reason}): a pg_dump, an import or a long query. The unfinished "
            "step was rolled back; run the command again once it ends."
        )
    reason = database_hint(reason, current_app.config["SQLALCHEMY_DATABASE_URI"])
    return f"the database cannot be used: {reason}"


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
