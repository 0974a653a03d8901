"""``flask --app blog import-wxr FILE`` and ``export-wxr FILE``."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..extensions import db
from . import WXRError, export_lines, import_site, read_wxr


@click.command("import-wxr")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_wxr_command(path: str) -> None:
    """Import a WordPress export; running it again adds nothing new."""
    try:
        site = read_wxr(path)
    except WXRError as error:
        raise click.ClickException(str(error)) from error
    report = import_site(site, own_site_url=current_app.config["SITE_URL"])
    db.session.commit()
    click.echo(f"Imported {path}:\n{report.summary()}")


@click.command("export-wxr")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def export_wxr_command(path: str, force: bool) -> None:
    """Write every post, category, author and response as WXR 1.2 ("-": stdout)."""
    # As backup does: an earlier export is kept unless asked.
    if path != "-" and os.path.exists(path) and not force:
        raise click.ClickException(f"{path} exists; choose a new name or pass --force.")
    config = current_app.config
    lines = export_lines(
        config["SITE_NAME"], config["SITE_URL"], config["SITE_TAGLINE"]
    )
    # Every commenter's address is in it: for its owner alone, as a backup.
    umask = os.umask(0o077)
    try:
        with click.open_file(path, "w", encoding="utf-8", atomic=path != "-") as out:
            for line in lines:
                out.write(line + "\n")
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}.") from error
    finally:
        os.umask(umask)
    if path != "-":
        os.chmod(path, 0o600)  # over an earlier export (--force) too
    if path != "-":
        click.echo(f"Exported to {path}.")


def init_app(app: Flask) -> None:
    """Register the WXR commands."""
    app.cli.add_command(import_wxr_command)
    app.cli.add_command(export_wxr_command)
