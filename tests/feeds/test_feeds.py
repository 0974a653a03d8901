"""RSS 2.0 and Atom feeds, read back with feedparser as a feed reader would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import feedparser
import pytest
from bs4 import BeautifulSoup

from blog.extensions import db
from blog.models import Author, Comment, Post
from blog.pagecache.versionread import VERSION_SQL

POST_SLUG = "chi-e-e-chi-non-e-il-community-manager"
POST_URL = f"/{POST_SLUG}/"
SITE = "http://127.0.0.1:5000"


def fetch(client, url: str, mimetype: str):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def add_post(slug: str, status: str = "published", day: int = 1) -> Post:
    author = db.session.scalar(db.select(Author))
    post = Post(
        slug=slug,
        title=f"Articolo {slug}",
        body="<p>Testo</p>",
        author=author,
        status=status,
        published_at=datetime(2013, 1, day),
    )
    db.session.add(post)
    db.session.flush()
    return post


def add_comment(post_id: int, name: str, status: str = "approved", **fields):
    comment = Comment(
        post_id=post_id,
        author_name=name,
        status=status,
        content=fields.pop("content", name),
        content_html=fields.pop("content_html", f"<p>{name}</p>"),
        created_at=fields.pop("created_at", datetime(2013, 2, 1)),
        **fields,
    )
    db.session.add(comment)
    db.session.flush()
    return comment


def original_post_id() -> int:
    return db.session.scalar(db.select(Post.id).where(Post.slug == POST_SLUG))


def test_posts_rss_lists_published_posts_newest_first(client):
    feed = fetch(client, "/feed/", "application/rss+xml")
    assert feed.version == "rss20"
    assert feed.feed.title == "nOwmedia"
    assert feed.feed.link == f"{SITE}/"
    assert len(feed.entries) == 3
    dates = [entry.published_parsed for entry in feed.entries]
    assert dates == sorted(dates, reverse=True)
    original = next(e for e in feed.entries if e.link == f"{SITE}{POST_URL}")
    assert original.title == "Chi è e chi NON è il Community Manager?!"
    assert original.author == "Riccardo Scarascia"
    assert [tag.term for tag in original.tags] == ["Social Media Marketing"]
    assert original.published.startswith("Tue, 23 Oct 2012")
    assert "Chi è il Community Manager?" in original.content[0].value
    assert "<" not in original.summary


def test_posts_atom_has_the_same_entries(client):
    rss = fetch(client, "/feed/", "application/rss+xml")
    feed = fetch(client, "/feed/atom/", "application/atom+xml")
    assert feed.version == "atom10"
    assert [e.link for e in feed.entries] == [e.link for e in rss.entries]
    assert [e.id for e in feed.entries] == [e.id for e in rss.entries]
    original = next(e for e in feed.entries if e.link == f"{SITE}{POST_URL}")
    assert original.title == "Chi è e chi NON è il Community Manager?!"
    assert original.author == "Riccardo Scarascia"
    assert "Chi è il Community Manager?" in original.content[0].value


@pytest.mark.parametrize(
    ("url", "mimetype", "title"),
    [
        (
            "/category/social-media-marketing/feed/",
            "application/rss+xml",
            "nOwmedia » Categoria: Social Media Marketing",
        ),
        (
            "/category/social-media-marketing/feed/atom/",
            "application/atom+xml",
            "nOwmedia » Categoria: Social Media Marketing",
        ),
        (
            "/author/riccardo-scarascia/feed/",
            "application/rss+xml",
            "nOwmedia » Autore: Riccardo Scarascia",
        ),
    ],
)
def test_a_category_or_an_authors_feed_has_its_posts_only(client, url, mimetype, title):
    # WordPress's listing feeds: a reader subscribed to one keeps it after a move.
    feed = fetch(client, url, mimetype)
    assert feed.feed.title == title
    links = [entry.link for entry in feed.entries]
    assert f"{SITE}{POST_URL}" in links
    every = [e.link for e in fetch(client, "/feed/", "application/rss+xml").entries]
    assert set(links) <= set(every)
    if "category" in url:
        assert len(links) < len(every)  # the posts filed elsewhere are left out


def test_a_listing_feed_in_another_format_moves_to_its_rss_and_none_is_missing(client):
    moved = client.get("/category/social-media-marketing/feed/rss2/")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/category/social-media-marketing/feed/"
    assert client.get("/category/nessuna/feed/").status_code == 404
    assert client.get("/tag/nessuno/feed/").status_code == 404


@pytest.mark.app_config(FEED_ITEMS=2)
def test_feeds_skip_drafts_and_keep_to_the_configured_length(app, client):
    with app.app_context():
        add_post("bozza", status="draft", day=20)
        db.session.commit()
    feed = fetch(client, "/feed/", "application/rss+xml")
    assert len(feed.entries) == 2
    assert all("bozza" not in entry.link for entry in feed.entries)
    assert client.get("/bozza/feed/").status_code == 404


def test_post_feed_has_its_approved_comments_and_pingbacks_only(app, client):
    with app.app_context():
        post_id = original_post_id()
        add_comment(post_id, "In attesa", status="pending")
        add_comment(post_id, "Spam", status="spam")
        kept = add_comment(post_id, "Zoë & Łukasz <x>").id
        db.session.commit()
    feed = fetch(client, f"{POST_URL}feed/", "application/rss+xml")
    assert len(feed.entries) == 13
    titles = [entry.title for entry in feed.entries]
    assert titles[0] == (
        "Commento a «Chi è e chi NON è il Community Manager?!» di Zoë & Łukasz <x>"
    )
    # The comment's own address, which leads to the comment page showing it.
    assert feed.entries[0].link == f"{SITE}/comment/{kept}/"
    landing = client.get(feed.entries[0].link.removeprefix(SITE))
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith(f"{POST_URL}#comment-{kept}")
    assert "Il community manager su Facebook" in titles
    assert not any("In attesa" in t or "Spam" in t for t in titles)


def test_recent_comments_feed_covers_every_published_post(app, client):
    with app.app_context():
        other = add_post("altro")
        draft = add_post("bozza", status="draft")
        add_comment(other.id, "Su un altro post", created_at=datetime(2014, 1, 1))
        add_comment(draft.id, "Su una bozza", created_at=datetime(2014, 1, 2))
        add_comment(other.id, "Non ancora", "pending", created_at=datetime(2014, 1, 3))
        db.session.commit()
    feed = fetch(client, "/comments/feed/", "application/rss+xml")
    titles = [entry.title for entry in feed.entries]
    assert len(titles) == 13
    assert titles[0] == "Commento a «Articolo altro» di Su un altro post"
    assert not any("bozza" in t or "Non ancora" in t for t in titles)


def test_feeds_are_advertised_in_the_page_head(client):
    head = BeautifulSoup(client.get(POST_URL).get_data(as_text=True), "html.parser")
    links = {
        link["href"]: link["type"]
        for link in head.head.find_all("link", rel="alternate")
    }
    assert links == {
        "/feed/": "application/rss+xml",
        "/feed/atom/": "application/atom+xml",
        "/comments/feed/": "application/rss+xml",
        f"{POST_URL}feed/": "application/rss+xml",
    }
    for href, mimetype in links.items():
        fetch(client, href, mimetype)
    home = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    assert len(home.head.find_all("link", rel="alternate")) == 3


def test_unchanged_feed_answers_not_modified(client):
    etag = client.get("/feed/").headers["ETag"]
    assert client.get("/feed/", headers={"If-None-Match": etag}).status_code == 304


def test_feed_queries_do_not_grow_with_the_data(app, client, count_queries):
    def queries() -> list[int]:
        counts = []
        for url in ("/feed/", "/feed/atom/", f"{POST_URL}feed/", "/comments/feed/"):
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts.append(counter.count)
        return counts

    before = queries()
    with app.app_context():
        post_id = original_post_id()
        for day in range(2, 8):
            add_post(f"nuovo-{day}", day=day)
        for n in range(30):
            add_comment(post_id, f"Lettore {n}")
        db.session.commit()
    assert queries() == before


def test_a_polled_feed_is_built_once_per_change_readers_can_see(
    app, client, count_queries
):
    # Feed readers poll: between two changes a poll reads the content version
    # (with the settings) and builds nothing.
    urls = ("/feed/", "/feed/atom/", f"{POST_URL}feed/", "/comments/feed/")
    first = {url: client.get(url).get_data() for url in urls}
    for url in urls:
        with count_queries() as counter:
            assert client.get(url).get_data() == first[url]
        read = [s for s in counter.statements if "FROM comment" in s or "post" in s]
        assert read == []
        assert counter.statements
    with app.app_context():
        add_comment(
            original_post_id(), "Appena arrivato", created_at=datetime(2020, 1, 1)
        )
        add_post("nuovissimo", day=30)
        db.session.commit()
    for url in (f"{POST_URL}feed/", "/comments/feed/"):
        titles = [
            entry.title for entry in fetch(client, url, "application/rss+xml").entries
        ]
        assert titles[0].endswith("di Appena arrivato")
    for url, mimetype in (
        ("/feed/", "application/rss+xml"),
        ("/feed/atom/", "application/atom+xml"),
    ):
        assert fetch(client, url, mimetype).entries[0].link.endswith("/nuovissimo/")
    # An unknown post's feed is still a 404, every time.
    assert client.get("/nessuno/feed/").status_code == 404
    assert client.get("/nessuno/feed/").status_code == 404


FEEDS = ("/feed/", "/feed/atom/", f"{POST_URL}feed/", "/comments/feed/")


@pytest.mark.parametrize("url", FEEDS)
def test_a_feed_is_answered_before_flask_for_everybody(app, count_queries, url):
    flask_answer = app.test_client().get(url)  # Flask fills the shared copy
    for visitor, query in ((app.test_client(), ""), (app.test_client(), "?utm=x")):
        visitor.set_cookie("comment_owner", "x")  # nothing of a visitor is in it
        with count_queries() as counter:
            hit = visitor.get(url + query)
        assert counter.statements == [VERSION_SQL]
        assert hit.get_data() == flask_answer.get_data()
        for name in ("Content-Type", "ETag", "Cache-Control", "X-Content-Type-Options"):
            assert hit.headers.get(name) == flask_answer.headers.get(name), name
        assert "Set-Cookie" not in hit.headers
        assert "Vary" not in hit.headers
    etag = flask_answer.headers["ETag"]
    again = app.test_client().get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert app.test_client().get(url + "?x=%00").status_code == 400


def test_an_unknown_posts_feed_is_missing_whatever_the_query(client):
    for query in ("", "?utm=x", "?utm=x"):
        assert client.get(f"/nessuno/feed/{query}").status_code == 404


def test_a_feed_from_before_a_deploy_that_changed_its_length_is_sent_again(
    app, make_app
):
    etag = app.test_client().get("/feed/").headers["ETag"]
    redeployed = make_app(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], FEED_ITEMS=1
    )
    again = redeployed.test_client().get("/feed/", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert len(feedparser.parse(again.get_data()).entries) == 1
    with redeployed.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("url", [f"{POST_URL}feed/", "/comments/feed/"])
def test_a_comment_typed_as_markup_stays_text_in_the_rss_description(app, client, url):
    # The sanitiser keeps a reader's "<img …>" as text; RSS's description is
    # HTML, so a feed reader must get it escaped, not as a live tag.
    typed = "<img src=x onerror=alert(1)> ciao"
    with app.app_context():
        add_comment(
            original_post_id(),
            "Lettore",
            content=typed,
            content_html="<p>&lt;img src=x onerror=alert(1)&gt; ciao</p>",
            created_at=datetime(2020, 1, 1),
        )
        db.session.commit()
    response = client.get(url)
    item = ET.fromstring(response.get_data()).find("channel/item")
    description = item.findtext("description")
    assert description == "&lt;img src=x onerror=alert(1)&gt; ciao"
    html = BeautifulSoup(description, "html.parser")
    assert html.find("img") is None
    assert html.get_text() == typed


def test_a_post_summary_with_markup_characters_stays_text_in_the_rss(app, client):
    with app.app_context():
        post = add_post("segni")
        post.body = "<p>5 &lt; 6 &amp; &lt;script&gt;x&lt;/script&gt;</p>"
        post.published_at = datetime(2030, 1, 1)
        db.session.commit()
    item = ET.fromstring(client.get("/feed/").get_data()).find("channel/item")
    assert item.findtext("title") == "Articolo segni"
    description = item.findtext("description")
    assert BeautifulSoup(description, "html.parser").get_text() == (
        "5 < 6 & <script>x</script>"
    )
    assert "<script>" not in description


def test_a_comment_on_a_later_page_is_linked_to_that_page(app, client):
    app.config["COMMENTS_PER_PAGE"] = 5
    with app.app_context():
        post_id = original_post_id()
        newest = add_comment(post_id, "Ultima", created_at=datetime(2014, 1, 1)).id
        db.session.commit()
    [entry] = [
        e
        for e in fetch(client, "/comments/feed/", "application/rss+xml").entries
        if e.link.endswith(f"/comment/{newest}/")
    ]
    landing = client.get(entry.link.removeprefix(SITE))
    assert "/comment-page-" in landing.headers["Location"]
    page = client.get(landing.headers["Location"].removeprefix(SITE))
    assert f'id="comment-{newest}"' in page.get_data(as_text=True)


def test_an_entry_is_never_updated_before_it_was_published(app, client):
    # A post dated a few minutes ahead (the editor allows clocks that far
    # apart) was saved before its date: RFC 4287 entries change after they
    # appear, not before.
    with app.app_context():
        post = add_post("avanti", day=5)
        post.updated_at = datetime(2013, 1, 4, 23, 58)
        db.session.commit()
    feed = fetch(client, "/feed/atom/", "application/atom+xml")
    [entry] = [e for e in feed.entries if e.link.endswith("/avanti/")]
    assert entry.updated_parsed >= entry.published_parsed


@pytest.mark.parametrize(
    ("url", "mimetype"),
    [("/feed/", "application/rss+xml"), ("/feed/atom/", "application/atom+xml")],
)
def test_a_posts_relative_links_reach_readers_whole(app, client, url, mimetype):
    # A feed reader resolves a relative link against the feed's address, not
    # the post's: every address in an entry is written out in full.
    with app.app_context():
        post = add_post("relativi", day=20)
        post.body = (
            '<p><a href="#sezione">sotto</a> <img src="foto.jpg" alt="f"> '
            '<a href="/chi-sono/">chi</a> <a href="https://altro.example/x">fuori</a>'
            '</p><blockquote cite="fonte.html">c</blockquote>'
        )
        db.session.commit()
    entry = next(
        e for e in fetch(client, url, mimetype).entries if e.link.endswith("/relativi/")
    )
    content = BeautifulSoup(entry.content[0].value, "html.parser")
    page = f"{SITE}/relativi/"
    assert [a["href"] for a in content.find_all("a")] == [
        f"{page}#sezione",
        f"{SITE}/chi-sono/",
        "https://altro.example/x",
    ]
    assert content.img["src"] == f"{page}foto.jpg"
    assert content.blockquote["cite"] == f"{page}fonte.html"
