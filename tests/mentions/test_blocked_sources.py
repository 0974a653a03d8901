"""Pingbacks and webmentions from a domain the author blocked go to spam (#14)."""

from __future__ import annotations

from helpers_mentions import call, drain, source_page
from sqlalchemy import select

from blog.extensions import db
from blog.models import Block, Comment


def block_domain(app, domain: str) -> None:
    with app.app_context():
        db.session.add(Block(kind="domain", value=domain))
        db.session.commit()


def stored(app, source: str) -> tuple[str, str]:
    with app.app_context():
        ping = db.session.scalars(
            select(Comment).where(Comment.source_url == source)
        ).one()
        return ping.status, ping.moderation_reason


def test_a_pingback_from_a_blocked_domain(client, mention_app, site, target):
    block_domain(mention_app, "127.0.0.2")
    source = site.page("/da-bloccare", source_page(target, "Leggete", "qui"))
    call(client, "pingback.ping", source, target)
    assert stored(mention_app, source) == (
        "spam",
        "indirizzo bloccato (dominio 127.0.0.2)",
    )


def test_a_webmention_from_a_blocked_domain(client, mention_app, site, target):
    block_domain(mention_app, "127.0.0.2")
    source = site.page("/menzione", source_page(target, "Leggete", "qui"))
    assert (
        client.post(
            "/webmention", data={"source": source, "target": target}
        ).status_code
        == 201
    )
    assert drain(mention_app) == 1
    assert stored(mention_app, source)[0] == "spam"


def test_a_pingback_from_another_domain_is_held_as_usual(
    client, mention_app, site, target
):
    block_domain(mention_app, "127.0.0.3")
    source = site.page("/altra", source_page(target, "Leggete", "qui"))
    call(client, "pingback.ping", source, target)
    assert stored(mention_app, source) == ("pending", "in attesa di approvazione")


def test_a_blocked_source_naming_its_author_elsewhere_is_still_spam(
    client, mention_app, site, target
):
    # The h-card's own site is not the source: the block is on the source.
    block_domain(mention_app, "127.0.0.2")
    page = f"""<!doctype html><html><body><article class="h-entry">
    <p class="p-author h-card"><a class="u-url p-name" href="http://altro.example/">
    Giulia</a></p><p class="e-content">Leggete <a href="{target}">qui</a>.</p>
    </article></body></html>"""
    source = site.page("/con-autrice", page)
    client.post("/webmention", data={"source": source, "target": target})
    assert drain(mention_app) == 1
    assert stored(mention_app, source)[0] == "spam"
