"""Pages ("Chi sono", "Contatti") beside articles: reached by their address,
their links and the search, never listed, as in WordPress."""

from __future__ import annotations

from datetime import datetime

from bs4 import BeautifulSoup
from defusedxml import ElementTree
from helpers_comments import POST_URL, send_comment
from helpers_posts import add_post
from sqlalchemy import select

from blog.extensions import db
from blog.models import Author, Category, Comment, Post

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# Newer than the seed's post, so that a listing would show it first.
LATER = datetime(2030, 5, 1, 9, 0)


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def add_page(app, slug: str = "chi-sono", **values) -> None:
    values.setdefault("title", "Chi sono")
    values.setdefault("body", "<p>Sono Riccardo, mi occupo di community.</p>")
    values.setdefault("comment_status", "closed")
    add_post(app, slug, values.pop("published_at", LATER), kind="page", **values)


def test_a_page_shows_its_text_without_an_articles_trimmings(app, client):
    add_page(app)
    page = soup(client.get("/chi-sono/"))
    assert page.select_one("h1.post-title").get_text() == "Chi sono"
    assert "mi occupo di community" in page.select_one(".post-body").get_text()
    # No date line, author box, neighbours, nor an empty comments section.
    for selector in (".post-meta", ".author-box", ".post-nav", "#comments", "form"):
        assert page.select_one(selector) is None, selector


def test_a_page_open_to_comments_takes_them(app, client):
    add_page(app, "contatti", title="Contatti", comment_status="open")
    assert soup(client.get("/contatti/")).select_one("form.comment-form")
    response = send_comment(client, app, "Come vi contatto?", page_url="/contatti/")
    assert response.status_code in (302, 303)
    with app.app_context():
        comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
        assert comment.post.slug == "contatti"


def test_pages_are_in_no_listing_no_feed_and_no_sequence(app, client):
    with app.app_context():
        author_slug = db.session.scalar(select(Author.slug))
        db.session.add(Category(name="Su di me", slug="su-di-me"))
        db.session.commit()
    add_page(app)
    with app.app_context():
        page = db.session.scalar(select(Post).where(Post.slug == "chi-sono"))
        page.categories = [db.session.scalar(select(Category))]
        db.session.commit()
    for address in (
        "/",
        "/feed/",
        "/feed/atom/",
        "/2030/",
        "/2030/05/",
        f"/author/{author_slug}/",
        "/category/su-di-me/",
    ):
        response = client.get(address)
        assert response.status_code in (200, 404), address
        text = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            shown = BeautifulSoup(text, "html.parser")
            for menu in shown.select("nav.site-pages"):  # the menu names it
                menu.decompose()
            text = str(shown)
        assert "/chi-sono/" not in text, address
    # The newest article has no "next" leading to the newer page.
    newest = soup(client.get("/")).select_one(".post-title a")["href"]
    assert soup(client.get(newest)).select_one(".post-nav a.next") is None


def test_the_sitemap_and_the_search_find_pages(app, client):
    add_page(app)
    sitemap = ElementTree.fromstring(client.get("/sitemap.xml").data)
    addresses = [loc.text for loc in sitemap.iter(f"{SITEMAP}loc")]
    assert any(address.endswith("/chi-sono/") for address in addresses)
    # A page is in no year's archive: its year is not named for it.
    assert not any(address.endswith("/2030/") for address in addresses)
    assert client.get("/2030/").status_code == 404
    found = soup(client.get("/?s=Riccardo community"))
    result = next(
        summary
        for summary in found.select(".post-summary")
        if summary.select_one(".post-title a")["href"] == "/chi-sono/"
    )
    assert result.select_one(".post-meta") is None  # no date line, as on the page


def test_our_own_number_of_a_page_leads_to_it(app, client):
    add_page(app)
    with app.app_context():
        page_id = db.session.scalar(select(Post.id).where(Post.slug == "chi-sono"))
    for name in ("p", "page_id"):
        response = client.get(f"/?{name}={page_id}")
        assert response.status_code == 301
        assert response.headers["Location"].endswith("/chi-sono/")


def test_the_public_pages_name_the_published_pages_in_their_menu(app, client):
    add_page(app)
    add_page(app, "contatti", title="Contatti")
    add_page(app, "bozza", title="Bozza di pagina", published_at=None)
    for address in ("/", POST_URL, "/?s=community", "/?page=1"):
        menu = soup(client.get(address)).select_one("nav.site-pages")
        assert [(a.get_text(), a["href"]) for a in menu.select("a")] == [
            ("Chi sono", "/chi-sono/"),
            ("Contatti", "/contatti/"),
        ], address


def test_without_pages_there_is_no_menu(client):
    assert soup(client.get("/")).select_one("nav.site-pages") is None
