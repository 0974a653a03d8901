"""``flask --app blog import-disqus FILE``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from ..extensions import db
from .importer import import_disqus
from .reader import DisqusError, read_disqus


@click.command("import-disqus")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_disqus_command(path: str) -> None:
    """Import a Disqus export's comments; running it again adds nothing new."""
    try:
        export = read_disqus(path)
    except DisqusError as error:
        raise click.ClickException(str(error)) from error
    report = import_disqus(export)
    db.session.commit()
    click.echo(f"Imported {path}:\n{report.summary()}")


def init_app(app: Flask) -> None:
    """Register the Disqus command."""
    app.cli.add_command(import_disqus_command)
