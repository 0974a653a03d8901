"""``flask --app blog create-author USERNAME``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..extensions import db
from .authors import AccountError, create_author


def read_password() -> str:
    """Ask twice without echo on a terminal; read one line from a pipe otherwise."""
    if sys.stdin.isatty():
        return click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True
        )
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-author")
@click.argument("username")
@with_appcontext
def create_author_command(username: str) -> None:
    """Create an author (or set a new password for an existing one)."""
    try:
        author = create_author(username, read_password())
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Autore «{author.username}» pronto.")
