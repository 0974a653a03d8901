"""Sending: endpoint discovery (the webmention.rocks cases), webmention and
pingback delivery, once per (post, link), and one blog instance pinging another."""

from __future__ import annotations

import xmlrpc.client
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from flask import Response
from helpers_comments import statements_during
from helpers_mentions import (
    MENTION_CONFIG,
    POST_SLUG,
    Reply,
    add_post,
    drain,
    local_site,
    post_url,
    serve_app,
    source_page,
)
from sqlalchemy import select, update

from blog import create_app
from blog.admin.posts import announce_post
from blog.core import jobs
from blog.core.signals import post_published
from blog.extensions import db
from blog.mentions.send import outbound_pings, post_links
from blog.models import Comment, OutboundPing, Post, utcnow
from blog.seed.loader import load_seed


def test_post_links_are_absolute_distinct_and_web_only(app):
    body = (
        "<a href='http://127.0.0.2/a#x'>1</a><a href='http://127.0.0.2/a'>2</a>"
        "<a href='/interno/'>3</a><a href='mailto:x@y.z'>4</a><a href='#top'>5</a>"
    )
    post_id = add_post(app, "links", body)
    with app.app_context():
        links = post_links(db.session.get(Post, post_id))
    site = app.config["SITE_URL"]
    assert links == ["http://127.0.0.2/a", f"{site}/interno/"]


def publish(app, slug: str, body: str) -> int:
    """Create a published post and announce it, as the editor does."""
    post_id = add_post(app, slug, body)
    with app.app_context():
        post_published.send(app, post=db.session.get(Post, post_id))
    return post_id


def pings_of(app, post_id: int) -> list[OutboundPing]:
    with app.app_context():
        return outbound_pings(post_id)


def webmention_receiver(site) -> str:
    """A page advertising a webmention endpoint that answers 202."""
    site.routes["/wm"] = Reply(202, "accettata")
    return site.page(
        "/target", "<p>Articolo</p>", headers=[("Link", "</wm>; rel=webmention")]
    )


def test_sends_a_webmention_once_per_link(mention_app, site):
    target = webmention_receiver(site)
    post_id = publish(mention_app, "nuovo", f"<p>Vedi <a href='{target}'>qui</a>.</p>")
    assert drain(mention_app) == 1
    (ping,) = pings_of(mention_app, post_id)
    assert (ping.method, ping.status, ping.result) == ("webmention", "sent", "HTTP 202")
    assert ping.endpoint == site.url("/wm")
    (post,) = [r for r in site.requests if r.method == "POST"]
    form = parse_qs(post.body.decode())
    assert form == {"source": [post_url(mention_app, "nuovo")], "target": [target]}
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert post.headers["User-Agent"].startswith("nOwmedia/0.1.0 (+")
    # Published again (an update): the same link is not pinged twice.
    with mention_app.app_context():
        post_published.send(mention_app, post=db.session.get(Post, post_id))
    assert drain(mention_app) == 0
    assert len([r for r in site.requests if r.method == "POST"]) == 1


def test_cli_resends_every_ping_of_a_post(mention_app, site, runner):
    target = webmention_receiver(site)
    publish(mention_app, "rinvio", f"<p><a href='{target}'>qui</a></p>")
    drain(mention_app)
    result = runner.invoke(args=["send-pings", "rinvio"])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output and target in result.output
    assert len([r for r in site.requests if r.method == "POST"]) == 2
    missing = runner.invoke(args=["send-pings", "non-esiste"])
    assert missing.exit_code != 0


def test_sends_a_pingback_when_there_is_no_webmention_endpoint(mention_app, site):
    calls = []

    def rpc(request):
        params, method = xmlrpc.client.loads(request.body)
        calls.append((method, params))
        answer = xmlrpc.client.dumps(("Grazie!",), methodresponse=True)
        return Reply(200, answer, content_type="text/xml")

    site.routes["/rpc"] = rpc
    target = site.page("/pb", "<p>x</p>", headers=[("X-Pingback", site.url("/rpc"))])
    post_id = publish(mention_app, "pb", f"<p><a href='{target}'>link</a></p>")
    drain(mention_app)
    (ping,) = pings_of(mention_app, post_id)
    assert (ping.method, ping.status, ping.result) == ("pingback", "sent", "Grazie!")
    assert calls == [("pingback.ping", (post_url(mention_app, "pb"), target))]


def test_pingback_fault_and_missing_endpoint_are_recorded(mention_app, site):
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(17, "no link"), methodresponse=True)
    site.routes["/rpc"] = Reply(200, fault, content_type="text/xml")
    faulty = site.page("/f", "<link rel='pingback' href='/rpc'>")
    plain = site.page("/plain", "<p>niente endpoint</p>")
    post_id = publish(
        mention_app, "due", f"<a href='{faulty}'>1</a> <a href='{plain}'>2</a>"
    )
    drain(mention_app)
    by_target = {p.target_url: p for p in pings_of(mention_app, post_id)}
    assert by_target[faulty].status == "failed"
    assert "fault 17" in by_target[faulty].result
    assert (by_target[plain].status, by_target[plain].method) == ("none", "")


def test_endpoint_on_a_forbidden_address_is_not_contacted(mention_app, site):
    with local_site("127.0.0.1") as loopback:
        loopback.routes["/wm"] = Reply(202, "")
        target = site.page(
            "/evil",
            "<p>x</p>",
            headers=[("Link", f"<{loopback.url('/wm')}>; rel=webmention")],
        )
        post_id = publish(mention_app, "trappola", f"<a href='{target}'>x</a>")
        drain(mention_app)
        assert loopback.requests == []
    (ping,) = pings_of(mention_app, post_id)
    assert ping.status == "failed" and "non raggiungibile" in ping.result


def test_links_between_our_posts_are_recorded_from_the_database(mention_app):
    def resolver(host, port):
        raise AssertionError("our own posts are never fetched")

    mention_app.config["OUTBOUND_RESOLVER"] = resolver
    target = post_url(mention_app)
    post_id = publish(
        mention_app, "interno", f"<p>Come dice <a href='{target}'>Riccardo</a>.</p>"
    )
    drain(mention_app)
    (ping,) = pings_of(mention_app, post_id)
    assert (ping.method, ping.status) == ("internal", "sent")
    with mention_app.app_context():
        stored = db.session.scalar(
            select(Comment).where(
                Comment.source_url == post_url(mention_app, "interno")
            )
        )
        assert (stored.type, stored.status) == ("pingback", "approved")
        assert stored.content == "Come dice Riccardo."


def resave(app, post_id: int, **changes) -> None:
    """Change a post and save it as the editor does (announcing it with the
    address it was published at)."""
    with app.app_context():
        post = db.session.get(Post, post_id)
        earlier = post_url(app, post.slug) if post.is_published else None
        for name, value in changes.items():
            setattr(post, name, value)
        db.session.commit()
        announce_post(post, earlier)


def internal_pings(app) -> list[tuple[str, str]]:
    """(source, excerpt) of the pingbacks on the seed post."""
    with app.app_context():
        rows = db.session.execute(
            select(Comment.source_url, Comment.content).where(
                Comment.type == "pingback",
                Comment.source_url.startswith(app.config["SITE_URL"]),
            )
        )
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    "change",
    [{"status": "draft"}, {"body": "<p>Ho tolto il link.</p>"}],
    ids=["unpublished", "link-removed"],
)
def test_a_pingback_of_ours_leaves_with_its_source(mention_app, client, change):
    # What the author took back (a post made a draft again, a link removed)
    # leaves the other post's page too, as a webmention whose source dropped
    # the link does.
    body = f"<p>Riservato: <a href='{post_url(mention_app)}'>qui</a>.</p>"
    post_id = publish(mention_app, "interno", body)
    drain(mention_app)
    assert internal_pings(mention_app) == [
        (post_url(mention_app, "interno"), "Riservato: qui.")
    ]
    resave(mention_app, post_id, **change)
    assert internal_pings(mention_app) == []
    assert "Riservato" not in client.get(f"/{POST_SLUG}/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("taken_back", "given_back"),
    [
        ({"status": "draft"}, {"status": "published"}),
        ({"body": "<p>Ho tolto il link.</p>"}, {}),
    ],
    ids=["republished", "link-put-back"],
)
def test_a_pingback_taken_back_comes_back_with_its_link(
    mention_app, taken_back, given_back
):
    body = f"<p>Vedi <a href='{post_url(mention_app)}'>questo</a>.</p>"
    post_id = publish(mention_app, "interno", body)
    drain(mention_app)
    resave(mention_app, post_id, **taken_back)
    assert internal_pings(mention_app) == []
    resave(mention_app, post_id, **(given_back | {"body": body}))
    drain(mention_app)
    assert internal_pings(mention_app) == [
        (post_url(mention_app, "interno"), "Vedi questo.")
    ]


def test_the_authors_spam_verdict_on_a_pingback_of_ours_stays(mention_app):
    body = f"<p>Vedi <a href='{post_url(mention_app)}'>questo</a>.</p>"
    post_id = publish(mention_app, "interno", body)
    drain(mention_app)
    with mention_app.app_context():
        db.session.execute(
            update(Comment).where(Comment.type == "pingback").values(status="spam")
        )
        db.session.commit()
    resave(mention_app, post_id, status="draft")
    assert len(internal_pings(mention_app)) == 1


def test_renamed_back_to_an_address_whose_pingback_the_author_judged(
    mention_app, runner
):
    # /aaa/'s pingback marked spam; renamed /bbb/ and pinged again from there;
    # renamed back: the spam verdict at /aaa/ stays, the twin from /bbb/ goes
    # (a post holds one response from an address).
    body = f"<p>Vedi <a href='{post_url(mention_app)}'>questo</a>.</p>"
    post_id = publish(mention_app, "aaa", body)
    drain(mention_app)
    with mention_app.app_context():
        ours = Comment.source_url.startswith(mention_app.config["SITE_URL"])
        db.session.execute(update(Comment).where(ours).values(status="spam"))
        db.session.commit()
    resave(mention_app, post_id, slug="bbb")
    assert runner.invoke(args=["send-pings", "bbb"]).exit_code == 0
    resave(mention_app, post_id, slug="aaa")
    with mention_app.app_context():
        rows = db.session.execute(
            select(Comment.source_url, Comment.status).where(ours)
        ).all()
    assert [tuple(row) for row in rows] == [(post_url(mention_app, "aaa"), "spam")]


def test_saving_a_post_costs_in_proportion_to_its_links(mention_app):
    # Checking its pingbacks again reads the body once and looks up each link
    # once: twice the links, at most twice the statements (a look-up per link
    # for each pingback grew with their square).
    for n in range(8):
        add_post(mention_app, f"bersaglio-{n}", "<p>x</p>")

    def statements_to_resave(slug: str, count: int) -> int:
        links = " ".join(
            f"<a href='{post_url(mention_app, f'bersaglio-{n}')}'>{n}</a>"
            for n in range(count)
        )
        post_id = publish(mention_app, slug, f"<p>Indice: {links}</p>")
        drain(mention_app)
        reads = statements_during(
            mention_app,
            lambda sql: True,
            lambda: resave(mention_app, post_id, title=f"{slug} nuovo"),
        )
        return len(reads)

    four, eight = statements_to_resave("quattro", 4), statements_to_resave("otto", 8)
    assert eight <= 2 * four, (four, eight)


def test_a_pingback_of_ours_follows_its_source_to_a_new_address(mention_app):
    body = f"<p>Come dice <a href='{post_url(mention_app)}'>Riccardo</a>.</p>"
    post_id = publish(mention_app, "interno", body)
    drain(mention_app)
    resave(mention_app, post_id, slug="interno-nuovo", body=body + "<p>Aggiunta.</p>")
    assert internal_pings(mention_app) == [
        (post_url(mention_app, "interno-nuovo"), "Come dice Riccardo.")
    ]


def test_sending_waits_for_the_end_of_the_request(mention_app, site):
    mention_app.config["MENTIONS_WORKER"] = "thread"
    target = webmention_receiver(site)
    post_id = add_post(mention_app, "dopo", f"<a href='{target}'>x</a>")
    with mention_app.test_request_context("/admin/publish", method="POST"):
        post_published.send(mention_app, post=db.session.get(Post, post_id))
        assert jobs.wait_idle(timeout=5)
        assert [r for r in site.requests if r.method == "POST"] == []
        mention_app.process_response(Response("ok"))
    assert jobs.wait_idle(timeout=20)
    (ping,) = pings_of(mention_app, post_id)
    assert ping.status == "sent"


@pytest.fixture
def second_blog(tmp_path):
    """Another instance of the blog with its own database."""
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "other",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}",
            "SITE_URL": "http://127.0.0.9",
            **MENTION_CONFIG,
        }
    )
    with other.app_context():
        db.create_all()
        load_seed()
        db.session.commit()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_one_instance_pings_another(mention_app, second_blog):
    with serve_app(mention_app, "127.0.0.3"), serve_app(second_blog, "127.0.0.2"):
        target = post_url(second_blog)
        post_id = publish(
            mention_app, "risposta", source_page(target, "Leggete", "di Riccardo")
        )
        drain(mention_app)
        (ping,) = pings_of(mention_app, post_id)
        assert (ping.method, ping.status) == ("webmention", "sent"), ping.result
        assert ping.endpoint == f"{second_blog.config['SITE_URL']}/webmention"
        drain(second_blog)
        source = post_url(mention_app, "risposta")
        with second_blog.app_context():
            stored = db.session.scalar(
                select(Comment).where(Comment.source_url == source)
            )
    assert stored.type == "webmention"
    assert stored.status == "pending"
    assert "Leggete questo articolo di Riccardo" in stored.content


def test_ping_abandoned_by_a_dead_worker_is_sent_again(mention_app, site):
    target = webmention_receiver(site)
    post_id = publish(mention_app, "orfano", f"<a href='{target}'>x</a>")
    with mention_app.app_context():
        ping = db.session.scalar(
            select(OutboundPing).where(OutboundPing.post_id == post_id)
        )
        ping.status, ping.attempted_at = "sending", utcnow() - timedelta(hours=1)
        db.session.commit()
    assert drain(mention_app) == 1
    assert pings_of(mention_app, post_id)[0].status == "sent"


def test_a_link_too_long_for_the_index_is_not_pinged(app):
    # 1,950 characters but 5,850 bytes: PostgreSQL bounds a unique index's
    # entry by bytes (2,704), and the outbound pings are unique per link.
    long_link = "http://127.0.0.2/" + "漢" * 1950
    body = f"<a href='{long_link}'>1</a><a href='http://127.0.0.2/b'>2</a>"
    post_id = add_post(app, "lunghi", body)
    with app.app_context():
        links = post_links(db.session.get(Post, post_id))
    assert links == ["http://127.0.0.2/b"]
