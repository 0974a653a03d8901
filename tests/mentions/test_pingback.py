"""Receiving pingbacks at /xmlrpc.php: discovery, verification, every fault code."""

from __future__ import annotations

import xmlrpc.client

import pytest
from bs4 import BeautifulSoup
from helpers_admin import add_comment, page_version
from helpers_comments import POST_URL
from helpers_guard import hang_guard
from helpers_mentions import (
    POST_SLUG,
    Reply,
    add_post,
    call,
    fault_code,
    fault_of,
    post_url,
    serve_app,
    source_page,
)
from sqlalchemy import select

from blog.extensions import db
from blog.mentions.receive import PingRejected, Sender, pingable_post, store_response
from blog.mentions.verify import SourceReport, analyse_source
from blog.models import Comment, Post
from blog.posts.oldpaths import record_paths

LOREM = (
    "Da tempo mi occupo di comunità online e leggendo con attenzione "
    "le idee di Riccardo sul ruolo del community manager ho pensato che"
)
AFTER = "merita una risposta articolata, anche perché il tema è più vasto di così."


def pings(app, **filters) -> list[Comment]:
    with app.app_context():
        query = select(Comment).where(Comment.type == "pingback")
        for name, value in filters.items():
            query = query.where(getattr(Comment, name) == value)
        return list(db.session.scalars(query))


def set_status(app, comment_id: int, status: str) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = status
        db.session.commit()


def test_post_pages_advertise_the_endpoints(client, mention_app):
    response = client.get(f"/{POST_SLUG}/")
    site = mention_app.config["SITE_URL"]
    assert response.headers["X-Pingback"] == f"{site}/xmlrpc.php"
    assert response.headers["Link"] == f'<{site}/webmention>; rel="webmention"'
    head = BeautifulSoup(response.data, "html.parser").head
    assert head.find("link", rel="pingback")["href"] == f"{site}/xmlrpc.php"
    assert head.find("link", rel="webmention")["href"] == f"{site}/webmention"
    home = client.get("/")
    assert "X-Pingback" not in home.headers and "Link" not in home.headers


def test_get_explains_that_only_post_is_accepted(client):
    response = client.get("/xmlrpc.php")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).strip() == (
        "XML-RPC server accepts POST requests only."
    )


def test_a_call_sent_form_encoded_is_still_read(client, mention_app, site, target):
    # What `curl -d @ping.xml` sends: the body is the call all the same.
    source = site.page("/curl", source_page(target))
    body = xmlrpc.client.dumps((source, target), "pingback.ping")
    response = client.post(
        "/xmlrpc.php", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "registrato" in xmlrpc.client.loads(response.data)[0][0]


def test_a_nul_in_a_call_is_a_fault_not_a_500(client):
    body = xmlrpc.client.dumps(("a\x00b", "c"), "pingback.ping").encode()
    for kind in ("text/xml", "application/x-www-form-urlencoded"):
        response = client.post("/xmlrpc.php", data=body, content_type=kind)
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            with pytest.raises(xmlrpc.client.Fault):
                xmlrpc.client.loads(response.data)


def test_lists_three_methods_and_no_multicall(client):
    assert call(client, "system.listMethods") == [
        "pingback.ping",
        "pingback.extensions.getPingbacks",
        "system.listMethods",
    ]
    # The XML-RPC community's "method not found" for anything else.
    calls = [{"methodName": "system.listMethods", "params": []}]
    assert fault_code(client, "system.multicall", calls) == -32601
    assert fault_code(client, "wp.getUsersBlogs", "admin", "password") == -32601


def test_a_pingback_through_a_live_server(mention_app, site):
    before = page_version(mention_app)
    with serve_app(mention_app) as base:
        target = post_url(mention_app)
        source = site.page("/risposta", source_page(target, LOREM, AFTER, "Replica"))
        proxy = xmlrpc.client.ServerProxy(f"{base}/xmlrpc.php")
        answer = proxy.pingback.ping(source, target)
        assert "registrato" in answer
        with pytest.raises(xmlrpc.client.Fault) as again:
            proxy.pingback.ping(source, target)
        assert again.value.faultCode == 0x0030
        (ping,) = pings(mention_app, source_url=source)
        assert source not in proxy.pingback.extensions.getPingbacks(target)
    assert ping.status == "pending"
    assert ping.moderation_reason == "in attesa di approvazione"
    assert (ping.source_url, ping.source_title) == (source, "Replica")
    # About 100 characters around the link, cut at whole words.
    assert ping.content == (
        "del community manager ho pensato che questo articolo "
        "merita una risposta articolata, anche"
    )
    assert ping.author_ip == "127.0.0.1"
    agent = site.requests[0].headers["User-Agent"]
    assert agent.startswith("nOwmedia/0.1.0 (+http://127.0.0.3:")
    assert agent.endswith("for 127.0.0.1)")
    assert site.paths() == ["/risposta"]  # fetched once; the duplicate never
    assert page_version(mention_app) == before  # held: no reader sees it yet


def test_approved_pingback_shows_as_excerpt_and_is_listed(client, mention_app, site):
    target = post_url(mention_app)
    source = site.page("/r", source_page(target, LOREM, AFTER, "Replica"))
    call(client, "pingback.ping", source, target)
    (ping,) = pings(mention_app, source_url=source)
    set_status(mention_app, ping.id, "approved")
    assert source in call(client, "pingback.extensions.getPingbacks", target)
    page = BeautifulSoup(client.get(f"/{POST_SLUG}/").data, "html.parser")
    link = page.find("a", href=source)
    assert link.get_text() == f"[...] {ping.content} [...]"


def test_controls_in_the_source_text_are_dropped_not_fatal(client, mention_app, site):
    # A NUL or a bidirectional override in the page: the excerpt is read
    # without them (they were the excerpt's own markers, and a 500).
    target = post_url(mention_app)
    before, after = "Prima\x00 del \u202elink\x01", "e\x01 dopo\u2066 il link"
    source = site.page("/controlli", source_page(target, before, after, "Ti\u202etolo"))
    call(client, "pingback.ping", source, target)
    (ping,) = pings(mention_app, source_url=source)
    assert ping.content == "Prima del link questo articolo e dopo il link"
    assert ping.source_title == "Titolo"


def test_links_nested_in_one_another_are_read_in_linear_time():
    # html.parser nests unclosed <a>: a walk up from every link was quadratic
    # (5,000 links, 16 s).
    target = "http://127.0.0.1:5000/post/"
    nested = "".join(f'<a href="/p{i}">x' for i in range(20_000))
    page = f"<p>{nested}<a href='{target}'>ok</a></p>".encode()
    with hang_guard(10):
        report = analyse_source(page, "http://fonte.example/", target, exact=True)
    assert report is not None


@pytest.mark.parametrize("holder", ["textarea", "title", "template", "xmp"])
def test_a_link_shown_as_text_is_no_link(client, mention_app, site, target, holder):
    page = f"<p>Testo</p><{holder}><a href='{target}'>x</a></{holder}>"
    source = site.page(f"/in-{holder}", page)
    assert fault_code(client, "pingback.ping", source, target) == 0x11


def test_get_pingbacks_lists_approved_pingbacks_only(client, mention_app, site, target):
    seeded = set(call(client, "pingback.extensions.getPingbacks", target))
    assert len(seeded) == 2  # items 11 and 12 of the original page
    sources = []
    for n, status in enumerate(["approved", "pending", "spam", "trash"]):
        sources.append(site.page(f"/p{n}", source_page(target)))
        call(client, "pingback.ping", sources[-1], target)
        set_status(
            mention_app, pings(mention_app, source_url=sources[-1])[0].id, status
        )
    listed = call(client, "pingback.extensions.getPingbacks", target)
    assert set(listed) == seeded | {sources[0]}
    unknown = post_url(mention_app, "non-esiste")
    assert fault_code(client, "pingback.extensions.getPingbacks", unknown) == 0x20
    foreign = "http://127.0.0.2:1/altro/"
    assert fault_code(client, "pingback.extensions.getPingbacks", foreign) == 0x21


@pytest.mark.parametrize(
    "href",
    [
        "{target}",
        "{target}#comments",
        "{target_no_slash}",
        "{target_https}",
        "{target_upper_host}",
    ],
)
def test_link_forms_that_count(client, site, target, href):
    forms = {
        "target": target,
        "target_no_slash": target.rstrip("/"),
        "target_https": target.replace("http://", "https://"),
        "target_upper_host": target.replace("127.0.0.1", "127.0.0.1".upper()),
    }
    source = site.page("/s", source_page(href.format(**forms), LOREM, AFTER))
    assert "registrato" in call(client, "pingback.ping", source, target)


def test_relative_link_through_base_element(client, mention_app, site, target):
    html = (
        f"<html><head><base href='{mention_app.config['SITE_URL']}/'></head>"
        f"<body><p>Vedi <a href='{POST_SLUG}/'>qui</a>.</p></body></html>"
    )
    source = site.page("/base", html)
    assert "registrato" in call(client, "pingback.ping", source, target)


@pytest.mark.parametrize(
    "html",
    [
        "<p>Niente link qui.</p>",
        "<p>Solo testo: {target}</p>",
        "<!-- <a href='{target}'>nascosto</a> --><p>ciao</p>",
        "<p><a href='{target}altro/'>un altro articolo</a></p>",
        "<script>var u = '<a href=\"{target}\">x</a>';</script>",
    ],
)
def test_source_without_the_link_is_0x11(client, site, target, html):
    source = site.page("/nolink", html.format(target=target))
    assert fault_code(client, "pingback.ping", source, target) == 0x11


def test_source_that_is_not_html_is_0x11(client, site, target):
    source = site.page("/t.txt", target, content_type="text/plain")
    assert fault_code(client, "pingback.ping", source, target) == 0x11


# 300: a redirect without a Location to follow, its page never read as the source.
@pytest.mark.parametrize("status", [404, 410, 403, 300])
def test_missing_source_is_0x10(client, site, target, status):
    source = site.page("/gone", source_page(target), status=status)
    assert fault_code(client, "pingback.ping", source, target) == 0x10


def test_unreachable_source_is_0x10(client, site, target):
    port = site.port
    site.close()
    source = f"http://127.0.0.2:{port}/chiuso"
    assert fault_code(client, "pingback.ping", source, target) == 0x10


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "2130706433", "0x7f000001"]
)
def test_source_on_loopback_is_refused(client, loopback_site, target, host):
    loopback_site.page("/", source_page(target))
    source = f"http://{host}:{loopback_site.port}/"
    fault = fault_of(client, "pingback.ping", source, target)
    assert fault.faultCode == 0x10 and "non raggiungibile" in fault.faultString
    assert loopback_site.requests == []


def test_redirect_to_a_private_address_is_refused(client, site, loopback_site, target):
    loopback_site.page("/", source_page(target))
    source = site.redirect("/via", loopback_site.url("/"))
    fault = fault_of(client, "pingback.ping", source, target)
    assert fault.faultCode == 0x10
    assert "127.0.0.1: indirizzo non raggiungibile" in fault.faultString
    assert loopback_site.requests == []


def test_dns_answer_pointing_to_loopback_is_refused(client, mention_app, target):
    asked = []

    def resolver(host, port):
        asked.append(host)
        return ["127.0.0.1"]

    mention_app.config["OUTBOUND_RESOLVER"] = resolver
    source = "http://innocuo.example:8080/post"
    fault = fault_of(client, "pingback.ping", source, target)
    assert fault.faultCode == 0x10
    # What the name resolves to is not told: the blog is no DNS oracle.
    assert "innocuo.example: indirizzo non raggiungibile" in fault.faultString
    assert "127.0.0.1" not in fault.faultString
    assert asked == ["innocuo.example"]


def test_upstream_errors_are_0x32(client, mention_app, site, target):
    source = site.page("/boom", "errore", status=503)
    assert fault_code(client, "pingback.ping", source, target) == 0x32

    def stall(request):
        site.release.wait(30)
        return Reply(body=source_page(target))

    site.routes["/slow"] = stall
    mention_app.config.update(OUTBOUND_TOTAL_TIMEOUT=0.5, OUTBOUND_CONNECT_TIMEOUT=0.5)
    assert fault_code(client, "pingback.ping", site.url("/slow"), target) == 0x32


def test_oversized_source_is_read_up_to_the_limit(client, mention_app, site, target):
    mention_app.config["OUTBOUND_MAX_BYTES"] = 20_000
    sent = []

    def endless(first: bytes):
        yield first
        while len(sent) < 50_000 and not site.release.is_set():
            sent.append(1)
            yield b"<p>" + b"riempitivo " * 100 + b"</p>\n"

    head = source_page(target, LOREM, AFTER).replace("</body></html>", "")
    site.routes["/early"] = Reply(body=endless(head.encode()))
    assert "registrato" in call(client, "pingback.ping", site.url("/early"), target)
    assert len(sent) < 50_000  # stopped reading long before the end

    late = b"<p>" + b"riempitivo " * 3_000 + b"</p>" + source_page(target).encode()
    site.routes["/late"] = Reply(body=late)
    assert fault_code(client, "pingback.ping", site.url("/late"), target) == 0x11


@pytest.mark.parametrize(
    "path", ["/non-esiste/", "/chi-e-e-chi-non-e-il-community-manager/altro/"]
)
def test_target_that_does_not_exist_is_0x20(client, mention_app, site, path):
    target = mention_app.config["SITE_URL"] + path
    source = site.page("/s", source_page(target))
    assert fault_code(client, "pingback.ping", source, target) == 0x20
    assert site.requests == []  # checked before fetching anything


def test_a_post_closed_to_pings_does_not_advertise_the_endpoints(client, mention_app):
    add_post(mention_app, "chiuso", "<p>chiuso</p>", ping_status="closed")
    response = client.get("/chiuso/")
    assert response.status_code == 200
    assert "X-Pingback" not in response.headers and "Link" not in response.headers
    head = BeautifulSoup(response.data, "html.parser").head
    assert head.find("link", rel=["pingback", "webmention"]) is None


def test_an_old_address_or_a_numbered_one_is_the_post_as_a_target(
    client, mention_app, site
):
    with mention_app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == POST_SLUG))
        # WordPress's dated permalink, and a renamed post's old slug.
        record_paths(post, [f"/2012/10/{POST_SLUG}", "/nome-di-prima"], "wordpress")
        db.session.commit()
        number = post.id
    site_url = mention_app.config["SITE_URL"]
    olds = (
        f"{site_url}/2012/10/{POST_SLUG}/",
        f"{site_url}/nome-di-prima/",
        f"{site_url}/?p={number}",
    )
    before = len(pings(mention_app, post_id=number))
    for index, old in enumerate(olds):
        source = site.page(f"/vecchio-{index}", source_page(old))
        assert "registrato" in call(client, "pingback.ping", source, old), old
    assert len(pings(mention_app, post_id=number)) == before + 3


def test_a_draft_is_as_missing_as_a_post_that_never_was(client, mention_app, site):
    add_post(mention_app, "bozza", "<p>bozza</p>", status="draft")
    site_url = mention_app.config["SITE_URL"]
    for target in (f"{site_url}/bozza/", f"{site_url}/mai-esistito/"):
        source = site.page("/s", source_page(target))
        assert fault_code(client, "pingback.ping", source, target) == 0x20, target
    assert site.requests == []


def test_targets_that_cannot_be_pinged_are_0x21(client, mention_app, site):
    add_post(mention_app, "chiuso", "<p>chiuso</p>", ping_status="closed")
    site_url = mention_app.config["SITE_URL"]
    targets = [
        "http://127.0.0.2:8080/un-altro-blog/",
        f"{site_url}/chiuso/",
        f"{site_url}/",
        f"{site_url}/category/social-media-marketing/",
    ]
    for target in targets:
        source = site.page("/s", source_page(target))
        assert fault_code(client, "pingback.ping", source, target) == 0x21, target
    assert site.requests == []


def test_duplicate_is_0x30(client, mention_app, site, target):
    source = site.page("/dup", source_page(target))
    call(client, "pingback.ping", source, target)
    assert fault_code(client, "pingback.ping", source, target) == 0x30
    assert len(pings(mention_app, source_url=source)) == 1


def test_flood_from_one_address_is_0x31(client, mention_app, site, target):
    mention_app.config["PING_LIMIT_PER_IP"] = 3
    for n in range(3):
        source = site.page(f"/f{n}", source_page(target))
        assert "registrato" in call(client, "pingback.ping", source, target)
    source = site.page("/f3", source_page(target))
    assert fault_code(client, "pingback.ping", source, target) == 0x31
    assert "/f3" not in site.paths()  # refused before any fetch
    other = mention_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.9"
    assert "registrato" in call(other, "pingback.ping", source, target)


def answers(mention_app, site, sends: list[tuple[str, str, str]]) -> list:
    """What each ping gets, each (address, source path, target) sent from its
    own client: "ok", or the fault code."""
    codes = []
    for address, path, target in sends:
        client = mention_app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        source = site.page(path, source_page(target))
        try:
            call(client, "pingback.ping", source, target)
            codes.append("ok")
        except xmlrpc.client.Fault as fault:
            codes.append(fault.faultCode)
    return codes


def test_flood_towards_one_target_is_0x31(mention_app, site, target):
    mention_app.config["PING_LIMIT_PER_TARGET"] = 2
    sends = [(f"127.0.1.{n}", f"/t{n}", target) for n in range(3)]
    assert answers(mention_app, site, sends) == ["ok", "ok", 0x31]


def test_query_strings_name_the_same_post_for_its_allowance(mention_app, site, target):
    mention_app.config["PING_LIMIT_PER_TARGET"] = 2
    sends = [(f"127.0.2.{n}", f"/q{n}", f"{target}?v={n}") for n in range(3)]
    assert answers(mention_app, site, sends) == ["ok", "ok", 0x31]


def test_an_ipv6_client_counts_as_its_whole_64(mention_app, site, target):
    mention_app.config["PING_LIMIT_PER_IP"] = 2
    sends = [(f"2001:db8:1:2::{n + 1}", f"/v6-{n}", target) for n in range(3)]
    assert answers(mention_app, site, sends) == ["ok", "ok", 0x31]


def test_a_twin_stored_meanwhile_is_already_registered(mention_app, site, target):
    # Two identical pings at once: both passed the check, the second INSERT
    # meets the unique (post, source) and is answered 0x30, not a 500.
    source = site.page("/gemello", source_page(target))
    with mention_app.test_request_context():
        post = pingable_post(target)
        report = SourceReport(title="Gemello", excerpt="un testo")
        store_response(post, source, report, "pingback", Sender(), False)
        with pytest.raises(PingRejected) as twin:
            store_response(post, source, report, "pingback", Sender(), False)
    assert twin.value.code == 0x30
    assert len(pings(mention_app, source_url=source)) == 1


def test_invalid_pingbacks_do_not_use_up_the_posts_allowance(
    client, mention_app, site, target
):
    mention_app.config["PING_LIMIT_PER_TARGET"] = 1
    mention_app.config["PING_LIMIT_PER_IP"] = 100
    for _ in range(5):
        assert fault_code(client, "pingback.ping", "not a url", target) == 0x10
    other = mention_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.9"
    source = site.page("/valida", source_page(target))
    assert "registrato" in call(other, "pingback.ping", source, target)


def test_pings_are_not_subject_to_the_comment_flood_rule(client, mention_app, site):
    target = post_url(mention_app)
    first = site.page("/a", source_page(target))
    second = site.page("/b", source_page(target))
    call(client, "pingback.ping", first, target)
    assert "registrato" in call(client, "pingback.ping", second, target)


def test_link_between_our_own_posts_is_approved_without_fetching(client, mention_app):
    target = post_url(mention_app)
    add_post(
        mention_app, "mio", f"<p>Come scritto <a href='{target}'>qui</a> ieri.</p>"
    )

    def resolver(host, port):
        raise AssertionError(f"no lookup expected, got {host}")

    mention_app.config["OUTBOUND_RESOLVER"] = resolver
    source = post_url(mention_app, "mio")
    call(client, "pingback.ping", source, target)
    (ping,) = pings(mention_app, source_url=source)
    assert ping.status == "approved"
    assert ping.content == "Come scritto qui ieri."
    add_post(mention_app, "senza", "<p>Nessun link.</p>")
    no_link = post_url(mention_app, "senza")
    assert fault_code(client, "pingback.ping", no_link, target) == 0x11


def test_a_source_too_long_for_the_index_is_0x10(client, mention_app):
    target = post_url(mention_app)
    add_post(mention_app, "mio", f"<p><a href='{target}'>qui</a></p>")
    source = post_url(mention_app, "mio") + "?x=" + "漢" * 1950
    assert fault_code(client, "pingback.ping", source, target) == 0x10
    assert pings(mention_app, source_url=source) == []


def test_a_stored_source_of_many_bytes_keeps_its_link(app, client):
    # 1,020 characters, 2,010 bytes: taken before the byte bound on new
    # sources, and still a link on the page.
    source = "https://ru.wikipedia.org/wiki/" + "Ж" * 990
    add_comment(
        app,
        type="pingback",
        status="approved",
        source_url=source,
        source_title="Voce",
        author_name="Voce",
    )
    page = BeautifulSoup(client.get(POST_URL).get_data(as_text=True), "html.parser")
    assert page.select(f'a[href="{source}"]')
