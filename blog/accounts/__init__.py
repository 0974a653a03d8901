"""The authors' accounts: who is signed in, sign-in and its lock-out, create-author."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask --app blog create-author``."""
    from .cli import create_author_command

    app.cli.add_command(create_author_command)
