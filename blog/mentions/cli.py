"""Commands: re-send a post's pings, drain the queue of mention jobs."""

from __future__ import annotations

import click
from sqlalchemy import select

from ..extensions import db
from ..mail import send_due
from ..models import Post
from . import bp, jobs
from .send import outbound_pings, plan_pings, send_pending


@bp.cli.command("send-pings")
@click.argument("slug")
def send_pings_command(slug: str) -> None:
    """Ping every link of the post SLUG again, now, and print the results."""
    post = db.session.scalar(select(Post).where(Post.slug == slug))
    if post is None or not post.is_published:
        raise click.ClickException(f"Nessun articolo pubblicato con slug {slug!r}.")
    plan_pings(post, again=True)
    db.session.commit()
    send_pending(post.id)
    for ping in outbound_pings(post.id):
        click.echo(f"{ping.status:8} {ping.method or '-':10} {ping.target_url}")
        if ping.result:
            click.echo(f"         {ping.result}")


@bp.cli.command("process-mentions")
def process_mentions_command() -> None:
    """Verify queued webmentions, send pending pings and due mail, then exit."""
    count = jobs.drain()
    # The periodic drain is also the outbox's: one cron line serves both.
    sent = send_due()
    click.echo(f"Lavori eseguiti: {count}. Email inviate: {sent}.")
