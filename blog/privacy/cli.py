"""``flask --app blog personal-data export|erase EMAIL`` and ``purge-expired``."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..core.settings import current_settings
from ..models import utcnow
from .requests import AddressError, erase_personal_data, export_personal_data
from .retention import purge_ips, purge_mail_records, purge_trash

WHO = "riga di comando"


@click.group("personal-data")
def personal_data_group() -> None:
    """Export or erase what the blog keeps about an email address."""


@personal_data_group.command("export")
@click.argument("email")
@with_appcontext
def export_command(email: str) -> None:
    """Print everything stored about EMAIL as JSON."""
    try:
        data = export_personal_data(email, WHO)
    except AddressError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from error
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@personal_data_group.command("erase")
@click.argument("email")
@click.option(
    "--delete-texts", is_flag=True, help="Remove the texts too (else anonymised)."
)
@with_appcontext
def erase_command(email: str, delete_texts: bool) -> None:
    """Anonymise what every personal data source keeps about EMAIL."""
    try:
        counts = erase_personal_data(email, delete_texts, WHO)
    except AddressError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from error
    for name, number in counts.items():
        click.echo(f"{name}: {number}")


@click.command("purge-expired")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Older than this many days (default: COMMENT_IP_RETENTION_DAYS; 0 keeps).",
)
@with_appcontext
def purge_expired_command(days: int | None) -> None:
    """Clear the IP address and browser of comments older than the retention,
    delete spam and trash older than COMMENT_TRASH_DAYS, and the mail's
    expired records."""
    if days is None:
        days = current_settings().ip_retention_days
    now = utcnow()
    click.echo(f"Commenti ripuliti: {purge_ips(now, days)}")
    trash = purge_trash(now, current_settings().trash_days)
    click.echo(f"Risposte eliminate da spam e cestino: {trash}")
    click.echo(f"Registrazioni email scadute eliminate: {purge_mail_records(now)}")


# The command's first name, from before it emptied the trash and the mail's
# records too: crontabs written for it keep working. Not in --help.
purge_ips_command = click.Command(
    "purge-ips",
    callback=purge_expired_command.callback,
    params=purge_expired_command.params,
    help="The old name of purge-expired.",
    hidden=True,
)
