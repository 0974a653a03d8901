"""Endpoint discovery, modelled on the webmention.rocks discovery tests, then
the Pingback fallbacks; every page is served by a local server."""

from __future__ import annotations

import pytest
from helpers_mentions import Reply

from blog.mentions.discover import discover, parse_link_header
from blog.net.addresses import Allowlist
from blog.net.client import Fetcher, Limits


def fetch(url: str):
    allow = Allowlist.parse("127.0.0.2")
    return Fetcher("test", allow=allow, limits=Limits(total_timeout=3)).get(url)


PAGE = "<html><head>{head}</head><body>{body}</body></html>"

# (name, Link headers, head, body, expected endpoint path or None)
DISCOVERY = [
    ("header relative", ["</e/1>; rel=webmention"], "", "", "/e/1"),
    ("header absolute", ['<{base}/e/2>; rel="webmention"'], "", "", "/e/2"),
    ("link relative", [], "<link rel='webmention' href='/e/3'>", "", "/e/3"),
    ("link absolute", [], "<link rel='webmention' href='{base}/e/4'>", "", "/e/4"),
    ("a relative", [], "", "<a rel='webmention' href='/e/5'>e</a>", "/e/5"),
    ("a absolute", [], "", "<a rel='webmention' href='{base}/e/6'>e</a>", "/e/6"),
    ("header odd case", ['</e/7>; REL="WebMention"'], "", "", "/e/7"),
    ("quoted rel", ['</e/8>; rel="webmention"'], "", "", "/e/8"),
    ("multi rel tag", [], "<link rel='webmention other' href='/e/9'>", "", "/e/9"),
    ("multi rel header", ['</e/10>; rel="other webmention"'], "", "", "/e/10"),
    (
        "header beats html",
        ['</e/11>; rel="webmention"'],
        "<link rel='webmention' href='/wrong'>",
        "",
        "/e/11",
    ),
    (
        "not-webmention ignored",
        ['</wrong>; rel="not-webmention"'],
        "<link rel='webmention' href='/e/12'>",
        "",
        "/e/12",
    ),
    (
        "html comment ignored",
        [],
        "<!-- <link rel='webmention' href='/wrong'> -->",
        "<a rel='webmention' href='/e/13'>e</a>",
        "/e/13",
    ),
    ("empty href is the page", [], "<link rel='webmention' href=''>", "", "/page/"),
    (
        "a before link",
        [],
        "",
        "<a rel='webmention' href='/e/16'>e</a><link rel='webmention' href='/x'>",
        "/e/16",
    ),
    (
        "link before a",
        [],
        "<link rel='webmention' href='/e/17'>",
        "<a rel='webmention' href='/x'>e</a>",
        "/e/17",
    ),
    (
        "several link headers",
        ['</a>; rel="other"', '</e/18>; rel="webmention"'],
        "",
        "",
        "/e/18",
    ),
    (
        "one header, several links",
        ['</a>; rel="other", </e/19>; rel="webmention"'],
        "",
        "",
        "/e/19",
    ),
    (
        "link without href skipped",
        [],
        "<link rel='webmention'>",
        "<a rel='webmention' href='/e/20'>e</a>",
        "/e/20",
    ),
    ("query string kept", ["</e/21?q=1&r=2>; rel=webmention"], "", "", "/e/21?q=1&r=2"),
    (
        "relative to the page",
        [],
        "<link rel='webmention' href='e/22'>",
        "",
        "/page/e/22",
    ),
    (
        "spaces around the href",
        [],
        "<link rel='webmention' href=' /e/23 '>",
        "",
        "/e/23",
    ),
    ("nothing advertised", [], "", "", None),
]


@pytest.mark.parametrize(
    ("name", "links", "head", "body", "expected"),
    DISCOVERY,
    ids=[d[0] for d in DISCOVERY],
)
def test_webmention_discovery(site, name, links, head, body, expected):
    base = site.url("")
    headers = [("Link", link.format(base=base)) for link in links]
    html = PAGE.format(head=head.format(base=base), body=body.format(base=base))
    site.routes["/page/"] = Reply(200, html, headers)
    found = discover(fetch(site.url("/page/")))
    if expected is None:
        assert found is None
    else:
        assert (found.method, found.url) == ("webmention", site.url(expected))


def test_discovery_after_a_redirect_resolves_against_the_final_url(site):
    site.redirect("/old", site.url("/new/place"))
    site.page("/new/place", PAGE.format(head="<link rel=webmention href=ep>", body=""))
    found = discover(fetch(site.url("/old")))
    assert found.url == site.url("/new/ep")


def test_pingback_discovery_header_then_link(site):
    site.routes["/h"] = Reply(200, "<p>x</p>", [("X-Pingback", site.url("/rpc"))])
    assert discover(fetch(site.url("/h"))).url == site.url("/rpc")
    site.page("/l", PAGE.format(head="<link rel='pingback' href='/rpc2'>", body=""))
    found = discover(fetch(site.url("/l")))
    assert (found.method, found.url) == ("pingback", site.url("/rpc2"))
    site.page("/none", "<p>niente</p>")
    assert discover(fetch(site.url("/none"))) is None


def test_link_header_parser():
    parsed = parse_link_header(['<a,b>; rel="x y", <c>; title="p, q"; rel=webmention'])
    assert parsed == [("a,b", {"x", "y"}), ("c", {"webmention"})]
