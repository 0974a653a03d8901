"""Receiving webmentions: synchronous checks, 201 and status URL, verification
outside the request, microformats, update and delete."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from helpers_admin import add_comment
from helpers_mentions import (
    POST_SLUG,
    add_post,
    drain,
    local_site,
    post_url,
    source_page,
)
from sqlalchemy import select, update

from blog.core import jobs
from blog.core.settings import CommentSettings, save_settings
from blog.extensions import db
from blog.mentions import receive, webmention
from blog.mentions.receive import published_at
from blog.models import Comment, Post, WebmentionRequest, utcnow

H_ENTRY = """<!doctype html><html><head><title>Una replica</title></head><body>
<article class="h-entry">
  <p class="p-author h-card"><a class="u-url p-name" href="https://autrice.example/">
    Giulia Bianchi</a></p>
  <time class="dt-published" datetime="2012-10-24T09:30:00+02:00">24 ottobre</time>
  <div class="e-content"><p>Risposta a <a href="{target}">questo articolo</a>:
  <strong>d'accordo</strong>.</p><script>alert(1)</script>
  <p><img src="x" onerror="alert(2)">Secondo paragrafo.</p></div>
</article></body></html>"""


def send(client, source: str, target: str):
    return client.post("/webmention", data={"source": source, "target": target})


def mentions(app, source: str) -> list[Comment]:
    with app.app_context():
        return list(
            db.session.scalars(select(Comment).where(Comment.source_url == source))
        )


def received(client, app, source: str, target: str):
    """Send a webmention and let the job verify it; the 201 response."""
    response = send(client, source, target)
    drain(app)
    return response


def approved_mention(app, source: str) -> Comment:
    """The one response stored from ``source``, approved by the author."""
    (mention,) = mentions(app, source)
    approve(app, mention.id)
    return mention


@pytest.fixture
def entry_mention(client, mention_app, site, target):
    """Receive H_ENTRY served at a path with one (old, new) text changed; the
    response stored from it."""

    def receive(path: str, old: str, new: str) -> Comment:
        source = site.page(path, H_ENTRY.replace(old, new).format(target=target))
        received(client, mention_app, source, target)
        (mention,) = mentions(mention_app, source)
        return mention

    return receive


def status_of(client, response) -> dict:
    return client.get(response.headers["Location"]).get_json()


def test_get_describes_the_endpoint(client):
    response = client.get("/webmention")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    said = response.get_data(as_text=True)
    assert "Webmention" in said and "source" in said and "target" in said


@pytest.mark.parametrize(
    ("source", "target_path"),
    [
        ("", "/chi-e-e-chi-non-e-il-community-manager/"),
        ("http://127.0.0.2/a", ""),
        ("ftp://127.0.0.2/a", "/chi-e-e-chi-non-e-il-community-manager/"),
        ("non un url", "/chi-e-e-chi-non-e-il-community-manager/"),
        ("http://127.0.0.2/a", "/non-esiste/"),
        ("http://127.0.0.2/a", "/bozza/"),
        ("http://127.0.0.2/a", "/category/social-media-marketing/"),
        ("{target}", "/chi-e-e-chi-non-e-il-community-manager/"),
    ],
)
def test_invalid_requests_are_400_at_once(client, mention_app, source, target_path):
    add_post(mention_app, "bozza", "<p>bozza</p>", status="draft")
    site_url = mention_app.config["SITE_URL"]
    target = site_url + target_path if target_path else ""
    source = source.format(target=target)
    response = send(client, source, target)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    with mention_app.app_context():
        assert db.session.scalar(select(db.func.count(WebmentionRequest.id))) == 0


def test_foreign_target_is_400(client):
    response = send(client, "http://127.0.0.2/a", "http://127.0.0.2/altro/")
    assert response.status_code == 400
    assert "sito" in response.get_data(as_text=True)


def test_accepted_with_status_url_then_verified_outside_the_request(
    client, mention_app, site, target
):
    source = site.page("/replica", H_ENTRY.format(target=target))
    response = send(client, source, target)
    assert response.status_code == 201
    assert response.headers["Location"] in response.get_data(as_text=True)
    assert response.headers["Location"].startswith(mention_app.config["SITE_URL"])
    assert site.requests == []  # nothing fetched during the request
    assert status_of(client, response)["status"] == "queued"
    assert drain(mention_app) == 1
    report = status_of(client, response)
    assert report["status"] == "accepted"
    assert (report["source"], report["target"]) == (source, target)
    (mention,) = mentions(mention_app, source)
    assert mention.type == "webmention" and mention.status == "pending"
    assert mention.author_name == "Giulia Bianchi"
    assert mention.author_url == "https://autrice.example/"
    assert mention.source_title == "Una replica"
    assert mention.created_at == datetime(2012, 10, 24, 7, 30)  # its published, UTC
    assert "questo articolo" in mention.content and "[...]" not in mention.content
    # What the author moderates is what the page shows: the excerpt around
    # the link, not the h-entry's content (which holds more).
    assert mention.content_html == f"<p>{mention.content}</p>"
    assert "Secondo paragrafo." not in mention.content_html
    assert "for 127.0.0.1" in site.requests[0].headers["User-Agent"]


def test_real_background_worker(client, mention_app, site, target):
    mention_app.config["MENTIONS_WORKER"] = "thread"
    source = site.page("/bg", source_page(target))
    response = send(client, source, target)
    assert response.status_code == 201
    assert jobs.wait_idle(timeout=20)
    assert status_of(client, response)["status"] == "accepted"
    assert len(mentions(mention_app, source)) == 1


def test_mf2py_never_fetches(client, mention_app, site, target, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("mf2py tried to fetch")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests.Session, "request", no_network)
    page = H_ENTRY.format(target=target).replace(
        "</head>", "<link rel='stylesheet' href='/s.css'><base href='/b/'></head>"
    )
    source = site.page("/mf", page)
    received(client, mention_app, source, target)
    assert mentions(mention_app, source)[0].author_name == "Giulia Bianchi"
    assert site.paths() == ["/mf"]


@pytest.mark.parametrize(
    "element",
    [
        "<a href='{target}'>link</a>",
        "<img src='{target}' alt=''>",
        "<video src='{target}'></video>",
        "<audio src='{target}'></audio>",
    ],
)
def test_exact_target_in_a_media_or_link_element(
    client, mention_app, site, target, element
):
    source = site.page("/ok", f"<p>{element.format(target=target)}</p>")
    received(client, mention_app, source, target)
    assert len(mentions(mention_app, source)) == 1


@pytest.mark.parametrize(
    "html",
    [
        "<p>Scritto nel testo: {target}</p>",
        "<!-- <a href='{target}'>commento</a> -->",
        "<p><a href='{target}#c'>con frammento</a></p>",
        "<p><a href='{bare}'>senza barra</a></p>",
        "<link rel='webmention' href='{target}'>",
        "<p><a data-href='{target}'>attributo sbagliato</a></p>",
    ],
)
def test_without_the_exact_target_is_rejected(client, mention_app, site, target, html):
    source = site.page("/no", html.format(target=target, bare=target.rstrip("/")))
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "rejected"
    assert mentions(mention_app, source) == []


def approve(app, comment_id: int) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = "approved"
        db.session.commit()


@pytest.mark.parametrize(
    ("rules", "new_text", "status"),
    [
        ({"hold_all": False}, "Seconda versione", "approved"),
        ({}, "Seconda versione", "pending"),  # every new text waits, as the first
        ({"hold_all": False, "moderation_words": ("casinò",)}, "casinò", "pending"),
        ({"hold_all": False, "disallowed_words": ("casinò",)}, "casinò", "spam"),
    ],
)
def test_a_changed_source_goes_through_the_rules_again(
    client, mention_app, site, target, rules, new_text, status
):
    with mention_app.app_context():
        save_settings(CommentSettings(**rules))
        db.session.commit()
    source = site.page("/v", source_page(target, "Prima versione", "", "Titolo 1"))
    received(client, mention_app, source, target)
    first = approved_mention(mention_app, source)
    site.page("/v", source_page(target, new_text, "", "Titolo 2"))
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "updated"
    (second,) = mentions(mention_app, source)
    assert second.id == first.id
    assert second.source_title == "Titolo 2"
    assert new_text in second.content
    assert second.status == status


def test_the_authors_spam_given_while_the_source_is_read_stays(
    client, mention_app, site, target, monkeypatch
):
    source = site.page("/s", source_page(target, "Prima versione"))
    received(client, mention_app, source, target)
    first = approved_mention(mention_app, source)
    site.page("/s", source_page(target, "Seconda versione"))
    read_source = webmention.read_source

    def read_while_the_author_marks_spam(*args, **kwargs):
        report = read_source(*args, **kwargs)
        with db.engine.begin() as other:
            spam = update(Comment).where(Comment.id == first.id).values(status="spam")
            other.execute(spam)
        return report

    monkeypatch.setattr(webmention, "read_source", read_while_the_author_marks_spam)
    received(client, mention_app, source, target)
    (after,) = mentions(mention_app, source)
    assert after.status == "spam"
    assert "Seconda versione" in after.content


AUTHORED = """<!doctype html><html><head><title>{title}</title></head><body>
<article class="h-entry"><p class="p-author h-card"><a class="u-url p-name"
  href="{home}">{name}</a></p>
<p class="e-content">Sempre <a href="{target}">questo articolo</a>.</p></article>
</body></html>"""


@pytest.mark.parametrize(
    ("field", "changed"),
    [
        ("source_title", {"title": "COMPRA ORA"}),
        ("author_name", {"name": "Casinò Online"}),
        ("author_url", {"home": "https://casino.example/"}),
    ],
)
def test_a_changed_title_or_author_goes_back_to_the_queue(
    client, mention_app, site, target, field, changed
):
    # The page shows the source's title and author beside the excerpt: a
    # change to them is a change to what readers see, held as a new text is.
    fields = {
        "title": "Una replica",
        "name": "Giulia",
        "home": "https://giulia.example/",
    }
    source = site.page("/a", AUTHORED.format(target=target, **fields))
    received(client, mention_app, source, target)
    first = approved_mention(mention_app, source)
    site.page("/a", AUTHORED.format(target=target, **(fields | changed)))
    received(client, mention_app, source, target)
    (second,) = mentions(mention_app, source)
    assert second.id == first.id and second.status == "pending"
    assert getattr(second, field) == str(next(iter(changed.values())))
    assert "modificata dalla sorgente" in second.moderation_reason


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (404, "<p>Pagina spostata</p>", "text/html"),
        (200, '{"in-reply-to": "%s"}', "application/json"),
        (200, "Vedi %s", "text/plain"),
    ],
)
def test_a_404_or_a_page_that_is_not_html_keeps_the_response(
    client, mention_app, site, target, status, body, content_type
):
    # Only a 410, or an HTML page without the link, says the mention is gone
    # (W3C Webmention 3.2.4): a page moved for a while, or served as JSON or
    # text, which this blog does not read for links, removes nothing.
    source = site.page("/k", source_page(target))
    received(client, mention_app, source, target)
    first = approved_mention(mention_app, source)
    text = body % target if "%s" in body else body
    site.page("/k", text, status=status, content_type=content_type)
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "rejected"
    (kept,) = mentions(mention_app, source)
    assert (kept.id, kept.status) == (first.id, "approved")


def test_the_entry_read_is_the_one_holding_the_link(client, mention_app, site, target):
    page = f"""<!doctype html><html><head><title>Blog</title></head><body>
    <aside><div class="h-entry"><p class="p-author h-card">Ospite Anonimo</p>
      <p class="e-content">Un altro articolo, senza link.</p></div></aside>
    <article class="h-entry"><p class="p-author h-card">Giulia Bianchi</p>
      <p class="e-content">Rispondo a <a href="{target}">questo articolo</a>.</p>
    </article></body></html>"""
    source = site.page("/e", page)
    received(client, mention_app, source, target)
    (mention,) = mentions(mention_app, source)
    assert mention.author_name == "Giulia Bianchi"
    assert "Rispondo a questo articolo" in mention.content


def test_an_unchanged_source_keeps_the_approval(client, mention_app, site, target):
    source = site.page("/u", source_page(target, "Sempre uguale"))
    received(client, mention_app, source, target)
    approved_mention(mention_app, source)
    received(client, mention_app, source, target)
    assert mentions(mention_app, source)[0].status == "approved"


@pytest.mark.parametrize("change", ["410", "no-link"])
def test_source_gone_or_unlinked_removes_the_response(
    client, mention_app, site, target, change
):
    source = site.page("/d", source_page(target))
    received(client, mention_app, source, target)
    assert len(mentions(mention_app, source)) == 1
    if change == "410":
        site.page("/d", "<p>Rimosso</p>", status=410)
    else:
        site.page("/d", "<p>Ho cambiato idea.</p>")
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "deleted"
    assert mentions(mention_app, source) == []


@pytest.mark.parametrize("spelling", ["{t}?x=1", "{t}#x", "{t_no_slash}"])
def test_another_spelling_of_the_target_cannot_remove_a_response(
    client, mention_app, site, target, spelling
):
    # The source still links to the post: asking again with a target it does
    # not name exactly refreshes the response, never deletes it.
    source = site.page("/resta", source_page(target))
    received(client, mention_app, source, target)
    first = approved_mention(mention_app, source)
    other = spelling.format(t=target, t_no_slash=target.rstrip("/"))
    response = received(client, mention_app, source, other)
    assert status_of(client, response)["status"] == "updated"
    (kept,) = mentions(mention_app, source)
    assert (kept.id, kept.status) == (first.id, "approved")


@pytest.mark.parametrize("link", ["{t}?utm_source=feed", "{site}/?p={number}"])
def test_a_source_linking_by_another_address_of_the_post_keeps_its_response(
    client, mention_app, site, target, link
):
    with mention_app.app_context():
        number = db.session.scalar(select(Post.id).where(Post.slug == POST_SLUG))
    address = link.format(t=target, site=mention_app.config["SITE_URL"], number=number)
    source = site.page("/altro-indirizzo", source_page(address))
    received(client, mention_app, source, address)
    first = approved_mention(mention_app, source)
    for again in (address, target):  # the sender again, or anyone at all
        response = received(client, mention_app, source, again)
        assert status_of(client, response)["status"] == "updated"
    (kept,) = mentions(mention_app, source)
    assert (kept.id, kept.status) == (first.id, "approved")


def test_a_page_of_thousands_of_links_to_us_costs_a_bounded_number_of_look_ups(
    mention_app, target, monkeypatch
):
    asked = []
    real = receive.match_target
    monkeypatch.setattr(
        receive, "match_target", lambda url: asked.append(url) or real(url)
    )
    with mention_app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == POST_SLUG))
        test = receive.leads_to(post)
        site = mention_app.config["SITE_URL"]
        assert not any(test(f"{site}/pagina-{n}/") for n in range(1000))
        assert test("https://altrove.example/") is False  # not ours: no look-up
    assert len(asked) == receive.MAX_LOOKED_UP


def test_the_authors_replies_stay_when_the_source_drops_the_link(
    client, mention_app, site, target
):
    source = site.page("/risposte", source_page(target))
    received(client, mention_app, source, target)
    [mention] = mentions(mention_app, source)
    under = {"status": "approved", "thread_id": mention.id}
    reply = add_comment(mention_app, parent_id=mention.id, depth=2, **under)
    deeper = add_comment(mention_app, parent_id=reply, depth=3, **under)
    site.page("/risposte", "<p>Ho cambiato idea.</p>")
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "deleted"
    page = client.get(f"/{POST_SLUG}/").get_data(as_text=True)
    assert f'id="comment-{reply}"' in page and f'id="comment-{deeper}"' in page


@pytest.mark.parametrize("verdict", ["spam", "trash"])
def test_a_sender_cannot_clear_the_authors_verdict(
    client, mention_app, site, target, verdict
):
    source = site.page("/verdetto", source_page(target))
    received(client, mention_app, source, target)
    [mention] = mentions(mention_app, source)
    with mention_app.app_context():
        db.session.get(Comment, mention.id).status = verdict
        db.session.commit()
    site.page("/verdetto", "<p>Ho tolto il link.</p>")
    received(client, mention_app, source, target)
    site.page("/verdetto", source_page(target))
    received(client, mention_app, source, target)
    [kept] = mentions(mention_app, source)
    assert (kept.id, kept.status) == (mention.id, verdict)


def test_a_verdict_given_while_the_source_is_fetched_stays(
    client, mention_app, site, target, monkeypatch
):
    source = site.page("/durante", source_page(target))
    received(client, mention_app, source, target)
    [mention] = mentions(mention_app, source)
    original = webmention.read_source

    def author_judges_meanwhile(*args, **kwargs):
        with db.engine.begin() as other:
            other.execute(
                update(Comment).where(Comment.id == mention.id).values(status="spam")
            )
        return original(*args, **kwargs)

    monkeypatch.setattr(webmention, "read_source", author_judges_meanwhile)
    site.page("/durante", "<p>Ho tolto il link.</p>")
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "rejected"
    [kept] = mentions(mention_app, source)
    assert (kept.id, kept.status) == (mention.id, "spam")


def test_transient_failure_keeps_the_response(client, mention_app, site, target):
    source = site.page("/t", source_page(target))
    received(client, mention_app, source, target)
    site.page("/t", "errore", status=503)
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "rejected"
    assert len(mentions(mention_app, source)) == 1


def test_forbidden_source_is_rejected_without_connecting(client, mention_app, target):
    with local_site("127.0.0.1") as loopback:
        loopback.page("/", source_page(target))
        for host in ("127.0.0.1", "localhost", "2130706433"):
            response = send(client, f"http://{host}:{loopback.port}/", target)
            assert response.status_code == 201
        drain(mention_app)
        assert loopback.requests == []
    assert status_of(client, response)["status"] == "rejected"
    detail = status_of(client, response)["detail"]
    assert "non raggiungibile" in detail and "127.0.0.1" not in detail


def test_own_post_as_source_is_approved_from_the_database(client, mention_app, target):
    add_post(
        mention_app, "interno", f"<p>Leggi <a href='{target}'>l'originale</a>.</p>"
    )
    mention_app.config["OUTBOUND_RESOLVER"] = lambda host, port: [][0]
    source = post_url(mention_app, "interno")
    received(client, mention_app, source, target)
    (mention,) = mentions(mention_app, source)
    assert mention.status == "approved"


def test_own_post_in_any_spelling_is_one_response_under_its_own_address(
    client, mention_app, target
):
    add_post(mention_app, "interno", f"<p>Leggi <a href='{target}'>qui</a>.</p>")
    mention_app.config["OUTBOUND_RESOLVER"] = lambda host, port: [][0]
    address = post_url(mention_app, "interno")
    for spelling in (address, address + "?a=1", address.rstrip("/"), address + "#x"):
        received(client, mention_app, spelling, target)
    with mention_app.app_context():
        sources = db.session.scalars(
            select(Comment.source_url).where(Comment.type == "webmention")
        ).all()
    assert sources == [address]


def test_a_source_browsers_read_as_another_host_is_400(client, mention_app, target):
    add_post(mention_app, "interno", f"<p>Leggi <a href='{target}'>qui</a>.</p>")
    # urlsplit reads the host as ours (an internal ping, approved at once), a
    # browser as evil.example.
    ours = post_url(mention_app, "interno").split("//", 1)[1]
    response = send(client, f"http://evil.example\\@{ours}", target)
    assert response.status_code == 400
    drain(mention_app)
    with mention_app.app_context():
        assert (
            db.session.scalar(select(Comment).where(Comment.type == "webmention"))
            is None
        )


def test_flood_is_429(client, mention_app, site, target):
    mention_app.config["PING_LIMIT_PER_IP"] = 2
    codes = [send(client, site.url(f"/{n}"), target).status_code for n in range(3)]
    assert codes == [201, 201, 429]


def test_invalid_requests_do_not_use_up_the_posts_allowance(
    client, mention_app, site, target
):
    mention_app.config["PING_LIMIT_PER_TARGET"] = 2
    mention_app.config["PING_LIMIT_PER_IP"] = 100
    for _ in range(30):
        assert send(client, "not a url", target).status_code == 400
    other = mention_app.test_client()
    sender = {"REMOTE_ADDR": "127.0.0.9"}
    codes = [
        other.post(
            "/webmention",
            data={"source": site.url(f"/{n}"), "target": target},
            environ_base=sender,
        ).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


def test_a_huge_entry_gives_the_excerpt_alone(client, mention_app, site, target):
    huge = "a-" * 250_000  # 500 KB: it took bleach's linkifier minutes
    page = H_ENTRY.replace("Secondo paragrafo.", huge)
    source = site.page("/lunga", page.format(target=target))
    send(client, source, target)
    assert drain(mention_app) == 1
    (mention,) = mentions(mention_app, source)
    assert len(mention.content_html.encode()) < 1_000
    assert "questo articolo" in mention.content_html
    assert mention.author_name == "Giulia Bianchi"


@pytest.mark.parametrize("shape", ["deep", "wide"])
def test_an_entry_too_large_to_read_falls_back_to_the_excerpt(
    client, mention_app, site, target, shape
):
    filler = "<div>" * 20_000 if shape == "deep" else "<div>x</div>" * 8_000
    page = H_ENTRY.replace("Secondo paragrafo.", filler)
    source = site.page("/grande", page.format(target=target))
    received(client, mention_app, source, target)
    (mention,) = mentions(mention_app, source)
    assert "questo articolo" in mention.content
    assert mention.author_name != "Giulia Bianchi"  # the h-entry was not read


def test_unknown_status_url_is_404(client):
    assert client.get("/webmention/" + "0" * 32).status_code == 404


def test_cli_drains_the_queue(client, mention_app, runner, site, target):
    source = site.page("/cli", source_page(target))
    send(client, source, target)
    result = runner.invoke(args=["process-mentions"])
    assert result.exit_code == 0
    # The same drain sends the author's notice of the mention it held.
    assert result.output == "Lavori eseguiti: 1. Email inviate: 1.\n"
    assert len(mentions(mention_app, source)) == 1


def test_post_page_lists_approved_webmention_as_excerpt(
    client, mention_app, site, target
):
    source = site.page("/show", source_page(target, "Bella analisi su", "davvero."))
    received(client, mention_app, source, target)
    (mention,) = mentions(mention_app, source)
    with mention_app.app_context():
        db.session.get(Comment, mention.id).status = "approved"
        db.session.commit()
    page = client.get(f"/{POST_SLUG}/").get_data(as_text=True)
    assert f"[...] {mention.content} [...]" in page


def test_request_abandoned_by_a_dead_worker_is_taken_up_again(
    client, mention_app, site, target
):
    source = site.page("/stale", source_page(target))
    response = send(client, source, target)
    request_id = response.headers["Location"].rsplit("/", 1)[1]
    with mention_app.app_context():
        request = db.session.get(WebmentionRequest, request_id)
        request.status = "processing"
        request.updated_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    assert drain(mention_app) == 1
    assert status_of(client, response)["status"] == "accepted"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-10-24T09:30:00+02:00", datetime(2012, 10, 24, 7, 30)),
        ("2012-10-24 09:30", datetime(2012, 10, 24, 9, 30)),
        ("2099-01-01T00:00:00Z", None),  # a date to come is not believed
        ("2001-01-01T00:00:00Z", None),  # nor one before the post was published
        ("ieri", None),
        ("", None),
        ("0001-01-01T00:30:00+01:00", None),  # before year 1 in UTC
    ],
)
def test_the_published_date_of_an_h_entry(value, expected):
    post_published = datetime(2012, 10, 23, 8, 0)
    now = datetime(2026, 11, 28, 12, 0)
    assert published_at(value, post_published, now) == expected


def test_a_response_claiming_an_old_date_is_dated_when_received(entry_mention):
    mention = entry_mention(
        "/antica", "2012-10-24T09:30:00+02:00", "2001-01-01T00:00:00Z"
    )
    assert utcnow() - mention.created_at < timedelta(minutes=5)


def test_a_mention_can_be_retracted_after_pings_close(
    client, mention_app, site, target
):
    # Closing pings refuses new mentions; one already shown may still be
    # taken back by its sender (W3C Webmention 3.2.4).
    source = site.page("/ritirata", source_page(target))
    received(client, mention_app, source, target)
    approved_mention(mention_app, source)
    with mention_app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == POST_SLUG))
        post.ping_status = "closed"
        db.session.commit()
    other = site.page("/nuova", source_page(target))
    assert send(client, other, target).status_code == 400
    site.page("/ritirata", "<p>Rimosso</p>", status=410)
    response = received(client, mention_app, source, target)
    assert response.status_code == 201
    assert status_of(client, response)["status"] == "deleted"
    assert mentions(mention_app, source) == []


def test_an_author_url_that_is_no_web_address_gives_way_to_the_source(
    entry_mention,
):
    mention = entry_mention(
        "/js-autrice", "https://autrice.example/", "javascript:alert(1)"
    )
    assert mention.author_url == mention.source_url


def test_scripts_and_styles_beside_the_link_stay_out_of_the_excerpt(
    client, mention_app, site, target
):
    page = f"""<!doctype html><html><head><title>T</title></head><body><p>
    <script>var segreto = 1;</script><style>p {{ color: red }}</style>
    Leggete <a href="{target}">questo articolo</a>.</p></body></html>"""
    source = site.page("/con-script", page)
    received(client, mention_app, source, target)
    (mention,) = mentions(mention_app, source)
    assert "questo articolo" in mention.content
    assert "segreto" not in mention.content and "color" not in mention.content


def test_a_source_that_now_links_another_post_of_ours_loses_its_response(
    client, mention_app, site, target
):
    add_post(mention_app, "un-altro-articolo", "<p>Altro.</p>")
    other = post_url(mention_app, "un-altro-articolo")
    source = site.page("/cambiata", source_page(target))
    received(client, mention_app, source, target)
    assert len(mentions(mention_app, source)) == 1
    site.page("/cambiata", source_page(other))  # links the other post only
    response = received(client, mention_app, source, target)
    assert status_of(client, response)["status"] == "deleted"
    assert mentions(mention_app, source) == []


def test_a_post_cannot_mention_itself_by_another_spelling(client, target):
    response = send(client, target, target + "#commenti")
    assert response.status_code == 400
