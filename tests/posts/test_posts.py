"""The original post page, element by element, against the seed text."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from helpers_comments import stage_comment, the_post
from helpers_posts import add_post
from sqlalchemy import func, select

from blog.admin.posts import PostData, save_post
from blog.core.sanitize.whitelist import allowed_tags_note
from blog.extensions import db
from blog.models import Comment, OutboxMessage, Post
from blog.posts.queries import get_neighbours, get_published_post
from blog.seed.loader import load_seed

SEED = (Path(__file__).parents[1] / "data" / "original-post.txt").read_text("utf-8")
POST_URL = "/chi-e-e-chi-non-e-il-community-manager/"
TAGS_NOTE = (
    'È possibile utilizzare questi tag ed attributi XHTML: <a href="" title=""> '
    '<abbr title=""> <acronym title=""> <b> <blockquote cite=""> <cite> <code> '
    '<del datetime=""> <em> <i> <q cite=""> <strike> <strong>'
)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def new_post(slug: str, title: str, **values) -> Post:
    """A published post by the seed's author, ``values`` overriding."""
    values = {"body": "<p>Testo.</p>", "author_id": 1, "status": "published", **values}
    return Post(slug=slug, title=title, **values)


def seed_responses() -> list[tuple[str | None, str]]:
    """(name or None, text) for each numbered item of the seed's response list."""
    block = SEED.split("12 Responses", 1)[1].split("Lascia un Commento", 1)[0]
    items = re.split(r"^\s+\d+\. ", block, flags=re.M)[1:]
    parsed = []
    for item in items:
        name = None
        match = re.match(r"(.+?) scrive:\s*\n", item)
        if match:
            name, item = match.group(1), item[match.end() :]
        parsed.append((name, squash(item)))
    return parsed


@pytest.fixture
def page(client):
    response = client.get(POST_URL)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.content_type == "text/html; charset=utf-8"
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_title_and_meta_line(page):
    assert page.h1.get_text() == "Chi è e chi NON è il Community Manager?!"
    assert page.title.get_text().startswith("Chi è e chi NON è il Community Manager?!")
    meta = page.select_one(".post-meta")
    assert squash(meta.get_text()) == (
        "on ottobre 23 | in Social Media Marketing | by Riccardo Scarascia "
        "| with 12 Comments"
    )
    assert meta.time["datetime"].startswith("2012-10-23")
    links = {a.get_text(): a["href"] for a in meta.find_all("a")}
    assert links["Social Media Marketing"] == "/category/social-media-marketing/"
    assert links["Riccardo Scarascia"] == "/author/riccardo-scarascia/"
    assert links["12 Comments"].endswith("#comments")


def test_body_keeps_headings_paragraphs_and_typography(page):
    body = page.select_one(".post-body")
    headings = [squash(h.get_text()) for h in body.find_all("h3")]
    assert headings == [
        "Non è il “tuttofare digitale”",
        "Non è un content manager",
        "Non è un social media manager",
        "Non è un servizio di customer care",
        "Non è uno strumento di awareness e leads generation",
        "Non può essere misurato con gli analytics e con gli insights",
        "Chi è il Community Manager?",
    ]
    text = squash(body.get_text(" "))
    start = SEED.index("Chi è il community manager?\n")
    end = SEED.index("Voi che ne pensate?")
    expected = squash(
        SEED[start:end] + "Voi che ne pensate? Chi è per voi il community manager?"
    )
    assert text == expected
    assert "Tra l’altro" in text and "etc…" in text


def test_author_box(page):
    box = page.select_one(".author-box")
    assert squash(box.select_one(".author-name").get_text()) == "Riccardo Scarascia"
    assert box.select_one(".author-title").get_text() == "Digital Marketer"
    assert (
        box.select_one(".author-bio")
        .get_text()
        .startswith("Una laurea in Economia ed un master in Marketing e Comunicazione")
    )
    assert (
        box.select_one(".author-bio").get_text().endswith("sul suo blog nOwmedia.it.")
    )


def test_twelve_responses_in_seed_order(page):
    assert page.select_one("#comments h2").get_text() == "12 Responses"
    items = page.select("ol.commentlist > li")
    assert len(items) == 12
    expected = seed_responses()
    assert len(expected) == 12
    for number, (item, (name, text)) in enumerate(zip(items, expected, strict=True), 1):
        assert re.fullmatch(r"comment-\d+", item["id"]), number
        if number in (11, 12):
            assert "pingback" in item["class"]
            assert squash(item.get_text()) == text
            link = item.select_one(".ping-excerpt a")
            assert link["href"].startswith("https://")
            assert ".example.org/" in link["href"]
            assert text.startswith("[...] ") and text.endswith(" [...]")
            continue
        content = squash(item.select_one(".comment-content").get_text(" "))
        assert content == text, number
        shown_name = squash(item.select_one(".fn").get_text())
        if name:
            assert shown_name == name
        assert item.select_one(".says").get_text() == "scrive:"
    names = [squash(li.select_one(".fn").get_text()) for li in items[:10]]
    assert names[0] == "Brunella"
    assert names[2] == names[3] == names[9] == "Riccardo Scarascia"
    assert all("by-author" in items[i]["class"] for i in (2, 3, 9))


def test_permalink_anchors_point_to_their_item(page):
    for item in page.select("ol.commentlist > li.comment"):
        assert item.select_one(".comment-date")["href"] == "#" + item["id"]


def test_comment_form_fields_and_exact_tags_note(page):
    form = page.select_one("#respond")
    assert form.h2.get_text() == "Lascia un Commento"
    assert squash(form.select_one(".comment-notes").get_text()) == (
        "L'indirizzo email non verrà pubblicato. "
        "I campi obbligatori sono contrassegnati *"
    )
    labels = [squash(label.parent.get_text(" ")) for label in form.find_all("label")]
    # The comment is required too, and marked as the note says (the original
    # page, from an older WordPress, left it unmarked).
    assert labels[:4] == ["Nome *", "Email *", "Sito web", "Commento *"]
    assert squash(form.select_one(".form-allowed-tags").get_text()) == TAGS_NOTE
    assert form.select_one("input[type=submit]")["value"] == "Invia commento"


def test_tags_note_is_generated_from_the_whitelist():
    from blog.core.sanitize import whitelist

    assert TAGS_NOTE.endswith(allowed_tags_note())
    assert allowed_tags_note({"b": (), "a": ("href",)}) == '<b> <a href="">'
    assert set(whitelist.COMMENT_TAGS) == set(re.findall(r"<(\w+)", TAGS_NOTE))


def test_email_addresses_are_never_in_the_page(app, client):
    with app.app_context():
        db.session.query(Comment).update({Comment.author_email: "secret@example.org"})
        db.session.commit()
    assert "secret@example.org" not in client.get(POST_URL).get_data(as_text=True)


def test_previous_and_next_links(page, client):
    nav = page.select_one(".post-nav")
    assert nav.select_one("a.prev")["href"] == "/cinque-regole-per-un-blog-aziendale/"
    assert nav.select_one("a.next")["href"] == "/il-content-manager-braccio-destro/"
    newest = BeautifulSoup(
        client.get("/il-content-manager-braccio-destro/").get_data(as_text=True),
        "html.parser",
    )
    assert newest.select_one(".post-nav a.next") is None
    assert newest.select_one(".post-nav a.prev")["href"] == POST_URL
    assert page.select_one("a.scroll-top")["href"] == "#top"


def test_the_neighbours_are_looked_up_once_per_change_readers_can_see(
    app, client, count_queries
):
    # A page made for one reader (here, saved details) is rendered on every
    # view; the posts around it are the same for everyone until a post changes.
    newest = "/il-content-manager-braccio-destro/"
    client.set_cookie("comment_author", "x")
    client.get(newest)
    with count_queries() as again:
        client.get(newest)
    assert not [s for s in again.statements if "post.published_at <" in s]
    with app.app_context():
        add_post_after(the_post("il-content-manager-braccio-destro"), "ancora-uno")
        db.session.commit()
    page = BeautifulSoup(client.get(newest).get_data(as_text=True), "html.parser")
    assert page.select_one(".post-nav a.next")["href"] == "/ancora-uno/"


def test_neighbours_worked_out_from_a_stale_read_are_not_kept_for_others(app):
    # On PostgreSQL each statement reads afresh: a request may read the post,
    # then the version of a change to it made in between. What it works out
    # from the old date must not be what the next reader is given.
    with app.test_request_context():
        post = get_published_post(POST_URL.strip("/"))
        with app.app_context():
            moved = db.session.get(Post, post.id)
            moved.published_at = datetime(2030, 1, 1)
            db.session.commit()
        get_neighbours(post)
    with app.test_request_context():
        fresh = get_neighbours(get_published_post(POST_URL.strip("/")))
    assert fresh.next is None
    assert fresh.previous.slug == "il-content-manager-braccio-destro"


def add_post_after(post: Post, slug: str) -> Post:
    later = new_post(
        slug,
        slug,
        author_id=post.author_id,
        published_at=post.published_at + timedelta(days=1),
    )
    db.session.add(later)
    return later


def test_counts_only_approved_responses(app, client):
    with app.app_context():
        post = db.session.query(Post).filter_by(slug=POST_URL.strip("/")).one()
        for status in ("pending", "spam", "trash"):
            db.session.add(
                Comment(
                    post=post,
                    status=status,
                    author_name="X",
                    content="x",
                    content_html="<p>x</p>",
                )
            )
        db.session.commit()
    page = BeautifulSoup(client.get(POST_URL).get_data(as_text=True), "html.parser")
    assert page.select_one("#comments h2").get_text() == "12 Responses"
    assert len(page.select("ol.commentlist > li")) == 12


def test_home_lists_published_posts_newest_first(app, client):
    with app.app_context():
        db.session.add(new_post("bozza", "Bozza segreta", status="draft"))
        db.session.commit()
    page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    titles = [squash(h.get_text()) for h in page.select(".post-summary h2")]
    assert titles == [
        "Il content manager, braccio destro del community manager",
        "Chi è e chi NON è il Community Manager?!",
        "Cinque regole per un blog aziendale che funziona",
    ]
    assert "with 12 Comments" in squash(page.get_text(" "))
    assert client.get("/bozza/").status_code == 404


def test_home_paginates(app, client):
    app.config["POSTS_PER_PAGE"] = 2
    first = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    assert len(first.select(".post-summary")) == 2
    assert first.select_one(".pager a[rel=next]")["href"] == "/?page=2"
    second = BeautifulSoup(client.get("/?page=2").get_data(as_text=True), "html.parser")
    assert len(second.select(".post-summary")) == 1
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=abc").status_code == 200


def test_category_and_author_archives(client):
    category = BeautifulSoup(
        client.get("/category/social-media-marketing/").get_data(as_text=True),
        "html.parser",
    )
    assert category.h1.get_text() == "Archivio: Social Media Marketing"
    assert len(category.select(".post-summary")) == 2
    author = BeautifulSoup(
        client.get("/author/riccardo-scarascia/").get_data(as_text=True), "html.parser"
    )
    assert "Riccardo Scarascia" in author.h1.get_text()
    assert len(author.select(".post-summary")) == 3
    assert client.get("/category/nessuna/").status_code == 404
    assert client.get("/author/nessuno/").status_code == 404


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/category/social-media-marketing/", "Social Media Marketing"),
        ("/author/riccardo-scarascia/", "Riccardo Scarascia"),
        ("/2012/", "2012"),
    ],
)
def test_an_archives_title_is_text_alone(client, path, title):
    # The search form once went into the <title>, shown raw in the tab.
    html = client.get(path).get_data(as_text=True)
    assert html.count("<title>") == 1
    shown = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert shown == f"{title} – nOwmedia"


@pytest.mark.parametrize("path", ["/non-esiste/", "/category/x/", "/a/b/c/d"])
def test_not_found_page_is_italian(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.h1.get_text() == "Pagina non trovata"
    assert page.html["lang"] == "it"


def test_times_are_shown_in_the_blogs_zone_and_said_in_utc(app, client, make_app):
    # The first response was stored at 11:04 UTC; in Rome (summer time) 13:04.
    first = BeautifulSoup(client.get(POST_URL).data, "html.parser").select_one(
        "#comment-1 .comment-date time"
    )
    assert first.get_text() == "23 ottobre 2012 alle 13:04"
    assert first["datetime"] == "2012-10-23T11:04:00Z"
    # The same database served by a blog set to another zone.
    utc = make_app(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], TIMEZONE="UTC")
    again = BeautifulSoup(utc.test_client().get(POST_URL).data, "html.parser")
    shown = again.select_one("#comment-1 .comment-date time").get_text()
    assert shown == "23 ottobre 2012 alle 11:04"
    with utc.app_context():
        db.session.remove()
        db.engine.dispose()


def test_seed_is_idempotent(app, runner):
    result = runner.invoke(args=["seed"])
    assert "0 new posts" in result.output
    with app.app_context():
        assert db.session.query(Post).count() == 3
        assert db.session.query(Comment).count() == 12


def test_post_page_query_count_is_constant(app, client, count_queries):
    with count_queries() as before:
        client.get(POST_URL)
    with app.app_context():
        post = db.session.query(Post).filter_by(slug=POST_URL.strip("/")).one()
        db.session.add_all(
            Comment(
                post=post,
                status="approved",
                author_name=f"Lettore {i}",
                content="ok",
                content_html="<p>ok</p>",
            )
            for i in range(200)
        )
        db.session.commit()
    with count_queries() as after:
        client.get(POST_URL)
    assert before.count == after.count
    # The page cache reads the content version first; the menu of pages is
    # read once per content version (the two renders here are in two).
    assert before.count <= 10


def test_the_seed_does_not_come_back_under_a_renamed_posts_first_address(app, runner):
    with app.app_context():
        post = the_post()
        renamed = PostData(
            title=post.title,
            slug="community-manager",
            body=post.body,
            status="published",
            published_at=post.published_at,
        )
        save_post(post, renamed, post.author)
        db.session.commit()
    result = runner.invoke(args=["seed"])
    assert "0 new posts" in result.output
    with app.app_context():
        assert db.session.query(Post).count() == 3
        assert db.session.query(Comment).count() == 12


@pytest.mark.parametrize("page", ["²", "9" * 5000, "-1", "0", "1e3", " "])
def test_odd_page_numbers_fall_back_to_the_first_page(client, page):
    first = client.get("/").get_data(as_text=True)
    response = client.get("/", query_string={"page": page})
    assert response.status_code == 200
    titles = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    expected = BeautifulSoup(first, "html.parser")
    shown = [a.get_text() for a in titles.select(".post-title a")]
    assert shown and shown == [a.get_text() for a in expected.select(".post-title a")]


@pytest.mark.parametrize(
    "path", ["/", "/category/social-media-marketing/", "/author/riccardo-scarascia/"]
)
def test_listing_query_count_is_constant(app, client, count_queries, path):
    with count_queries() as before:
        assert client.get(path).status_code == 200
    with app.app_context():
        category = db.session.query(Post).first().categories[0]
        for number in range(25):
            post = new_post(
                f"articolo-{number}",
                f"Articolo {number}",
                published_at=datetime(2013, 1, 1) + timedelta(days=number),
                categories=[category],
            )
            db.session.add(post)
            db.session.flush()
            db.session.add_all(
                Comment(
                    post=post,
                    status="approved",
                    author_name="L",
                    content="ok",
                    content_html="<p>ok</p>",
                )
                for _ in range(3)
            )
        db.session.commit()
    with count_queries() as after:
        page = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
    assert len(page.select(".post-summary")) == 10
    assert after.count == before.count


def test_posts_published_in_the_same_second_form_one_chain(app, client):
    with app.app_context():
        seeded = db.session.query(Post).filter_by(slug=POST_URL.strip("/")).one()
        twins = [
            new_post(
                f"gemello-{n}",
                f"Gemello {n}",
                author_id=seeded.author_id,
                published_at=datetime(2030, 1, 1, 9, 0),
            )
            for n in (1, 2, 3)
        ]
        db.session.add_all(twins)
        db.session.commit()

    def nav(slug: str) -> tuple[str | None, str | None]:
        page = client.get(f"/{slug}/").get_data(as_text=True)
        html = BeautifulSoup(page, "html.parser")
        links = [html.select_one(f".post-nav a.{kind}") for kind in ("prev", "next")]
        return tuple(link["href"] if link else None for link in links)

    assert nav("gemello-1")[1] == "/gemello-2/"
    assert nav("gemello-2") == ("/gemello-1/", "/gemello-3/")
    assert nav("gemello-3") == ("/gemello-2/", None)


def test_a_post_summary_is_its_excerpt_or_the_start_of_its_text():
    assert Post(excerpt="In breve.", body="<p>Tutto.</p>").summary == "In breve."
    assert Post(excerpt="", body="<p>Corto <em>e</em> chiaro.</p>").summary == (
        "Corto e chiaro."
    )
    long = Post(excerpt="", body="<p>" + "parola " * 100 + "</p>").summary
    assert long.endswith("parola…") and len(long) <= 281


def test_the_home_page_counts_responses_once_per_change_readers_can_see(
    app, client, count_queries
):
    # Every visitor gets the home page made for them; counting a post's
    # responses reads one index entry per response.
    def summary() -> str:
        page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
        [mine] = [
            summary
            for summary in page.select(".post-summary")
            if summary.select_one(f'a[href="{POST_URL}"]')
        ]
        return mine.get_text(" ", strip=True)

    assert "with 12 Comments" in summary()
    with count_queries() as again:
        assert client.get("/").status_code == 200
    assert not [s for s in again.statements if "FROM comment" in s]
    with app.app_context():
        stage_comment(the_post())
        db.session.commit()
    assert "with 13 Comments" in summary()


@pytest.mark.parametrize("path", ["/", "/category/social-media-marketing/"])
def test_a_listing_is_made_once_per_change_readers_can_see(
    app, client, count_queries, path
):
    # A listing shows nothing of its visitor: a GET flood on the home page
    # made it afresh for every request.
    first = client.get(path).get_data(as_text=True)
    with count_queries() as again:
        assert app.test_client().get(path).get_data(as_text=True) == first
    assert not [s for s in again.statements if "FROM post" in s or "FROM comment" in s]
    with app.app_context():
        category = db.session.query(Post).first().categories[0]
        db.session.add(
            new_post(
                "appena-uscito",
                "Appena uscito",
                published_at=datetime(2030, 1, 1),
                categories=[category],
            )
        )
        db.session.commit()
    assert "Appena uscito" in client.get(path).get_data(as_text=True)


def test_a_listing_made_under_another_root_stays_there(client):
    rooted = client.get("/", environ_overrides={"SCRIPT_NAME": "/altrove"})
    assert 'href="/altrove/chi-e-e-chi-non-e-il-community-manager/"' in (
        rooted.get_data(as_text=True)
    )
    assert "/altrove/" not in client.get("/").get_data(as_text=True)


def test_searches_that_all_differ_leave_the_kept_listings_alone(client, count_queries):
    # Searches are kept in a store of their own: a script sending a new one
    # each time starts that store again, never the listings'.
    listing = "/category/social-media-marketing/"
    assert client.get(listing).status_code == 200
    for number in range(250):  # more than the listings' store holds
        client.get(f"/?s=community{number}")
    with count_queries() as again:
        assert client.get(listing).status_code == 200
    assert not [s for s in again.statements if "FROM post " in s]


@pytest.mark.parametrize("path", [POST_URL, "/", "/admin/login"])
def test_every_page_names_its_icon_so_browsers_never_ask_for_favicon_ico(client, path):
    icon = BeautifulSoup(client.get(path).get_data(), "html.parser").select_one(
        'link[rel="icon"]'
    )
    assert icon["type"] == "image/svg+xml"
    with client.get(icon["href"]) as served:
        assert served.status_code == 200
        assert served.mimetype == "image/svg+xml"
        assert served.get_data().startswith(b"<svg")


def test_a_published_post_without_a_date_still_shows(app, client):
    # Imported so before the import dated such posts: no neighbours, no 500.
    add_post(app, "senza-data", None, title="Senza data")
    with app.app_context():
        post = db.session.query(Post).filter_by(slug="senza-data").one()
        post.status = "published"
        db.session.commit()
    response = client.get("/senza-data/")
    assert response.status_code == 200
    assert "Senza data" in response.get_data(as_text=True)


@pytest.mark.app_config(MAIL_APPROVED_COMMENTS=True)
def test_seeding_mails_nobody(app):
    # The seed's responses were moderated long ago: loading them is not news
    # for the author, even when the author asks for mail on each approval.
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


@pytest.mark.app_config(MAIL_APPROVED_COMMENTS=True)
def test_what_is_stored_after_the_seed_is_news_again(app):
    # Quiet for the seed's own rows only: a comment stored next in the same
    # session still tells the author.
    with app.app_context():
        load_seed()
        post = db.session.scalar(select(Post).order_by(Post.id))
        stage_comment(post, status="approved", author_name="Dopo il seme")
        db.session.commit()
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_the_seeded_posts_are_dated_when_they_were_written(app, client):
    # Not the day the blog was installed: the sitemap's lastmod and the feeds'
    # updated say 2011/2012 for posts of then.
    with app.app_context():
        for post in db.session.scalars(select(Post)):
            assert post.updated_at == post.published_at == post.created_at
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"<lastmod>{datetime.now().year}" not in sitemap
