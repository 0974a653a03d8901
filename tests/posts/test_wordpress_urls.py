"""WordPress's own addresses, for posts made here too: comment pages, dates,
sitemap and robots."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from defusedxml import ElementTree
from helpers_posts import add_post
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, Tag

POST_URL = "/chi-e-e-chi-non-e-il-community-manager/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def titles(page: BeautifulSoup) -> list[str]:
    return [a.get_text() for a in page.select(".post-title a")]


class TestCommentPages:
    def test_comment_pages_have_wordpress_addresses(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        first = soup(client.get(POST_URL))
        link = first.select_one(".comment-navigation a[rel=next]")["href"]
        assert link == f"{POST_URL}comment-page-2/#comments"
        second = soup(client.get(f"{POST_URL}comment-page-2/"))
        assert second.select_one("ol.commentlist")["start"] == "6"

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("?cpage=2", "comment-page-2/"),
            ("?cpage=2&replytocom=7", "comment-page-2/?replytocom=7"),
            ("?cpage=1", ""),
            ("comment-page-1/", ""),
        ],
    )
    def test_the_query_form_and_page_one_move_permanently(self, app, client, old, new):
        app.config["COMMENTS_PER_PAGE"] = 5
        response = client.get(POST_URL + old)
        assert response.status_code == 301
        assert response.headers["Location"] == POST_URL + new

    @pytest.mark.parametrize(
        "extra",
        [
            "&slug=altro",
            "&_external=1",
            "&_scheme=javascript",
            "&_anchor=x",
            "&endpoint=x",
        ],
    )
    def test_query_arguments_named_like_url_options_stay_query_text(
        self, app, client, extra
    ):
        # They once reached url_for as its own keywords: a 500, or an address
        # built from the request's Host.
        response = client.get(f"{POST_URL}?cpage=2&replytocom=7{extra}")
        assert response.status_code == 301
        assert response.headers["Location"] == (
            f"{POST_URL}comment-page-2/?replytocom=7{extra}"
        )

    @pytest.mark.parametrize("query", ["?cpage=3", "?cpage=abc", "?cpage=", "?cpage=0"])
    @pytest.mark.parametrize(("page", "new"), [(2, "comment-page-2/"), (1, "")])
    def test_a_comment_page_address_keeps_its_own_page_over_the_query(
        self, app, client, query, page, new
    ):
        app.config["COMMENTS_PER_PAGE"] = 5
        response = client.get(f"{POST_URL}comment-page-{page}/{query}")
        assert response.status_code == 301
        assert response.headers["Location"] == POST_URL + new

    def test_a_comment_page_past_the_last_is_404(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        assert client.get(f"{POST_URL}comment-page-4/").status_code == 404
        assert client.get(f"{POST_URL}comment-page-0/").status_code == 404

    def test_a_comment_page_is_served_from_the_page_cache(
        self, app, client, count_queries
    ):
        app.config["COMMENTS_PER_PAGE"] = 5
        first = client.get(f"{POST_URL}comment-page-2/").get_data()
        with count_queries() as counter:
            again = client.get(f"{POST_URL}comment-page-2/")
        assert counter.count == 1  # the content version, nothing else
        assert again.get_data() != client.get(POST_URL).get_data()
        assert b"comment-page-3" in first


class TestDateArchives:
    def test_month_archive(self, client):
        page = soup(client.get("/2012/10/"))
        assert page.select_one("h1").get_text(strip=True) == "Archivio: ottobre 2012"
        assert titles(page) == [
            "Chi è e chi NON è il Community Manager?!",
            "Cinque regole per un blog aziendale che funziona",
        ]

    def test_year_archive(self, client):
        page = soup(client.get("/2012/"))
        assert len(titles(page)) == 3

    @pytest.mark.parametrize(
        "url", ["/2012/13/", "/2012/00/", "/2011/", "/2012/09/", "/0000/", "/9999/12/"]
    )
    def test_empty_or_impossible_dates_are_404(self, client, url):
        assert client.get(url).status_code == 404

    def test_drafts_stay_out_of_date_archives(self, app, client):
        add_post(app, "bozza", None)
        add_post(app, "pubblicato", datetime(2012, 12, 1))
        assert titles(soup(client.get("/2012/12/"))) == ["pubblicato"]

    def test_a_post_whose_slug_is_a_year_keeps_its_address(self, app, client):
        add_post(app, "2012", datetime(2013, 1, 1), title="Il mio 2012")
        page = soup(client.get("/2012/"))
        assert page.select_one("h1.post-title, h1").get_text(strip=True) == (
            "Il mio 2012"
        )
        assert client.get("/2012/10/").status_code == 200


class TestSitemapAndRobots:
    def test_sitemap_lists_published_posts_and_year_archives(self, app, client):
        add_post(app, "bozza", None)
        response = client.get("/sitemap.xml")
        assert response.status_code == 200
        assert response.mimetype == "application/xml"
        root = ElementTree.fromstring(response.get_data())
        urls = {
            url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
            for url in root.findall(f"{SITEMAP}url")
        }
        base = "http://127.0.0.1:5000"
        assert set(urls) == {
            f"{base}/",
            f"{base}{POST_URL}",
            f"{base}/cinque-regole-per-un-blog-aziendale/",
            f"{base}/il-content-manager-braccio-destro/",
            f"{base}/2012/",
        }
        with app.app_context():
            post = db.session.scalar(select(Post).where(Post.slug == "bozza"))
            newest = max(
                p.updated_at for p in db.session.scalars(select(Post)) if p.published_at
            )
        assert urls[f"{base}/"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert post.slug not in "".join(urls)

    def test_the_sitemap_names_years_by_the_blogs_own_calendar(self, app, client):
        # 23:30 UTC on New Year's Eve is already the new year in Rome, where the
        # year archives count their days.
        add_post(app, "capodanno", datetime(2013, 12, 31, 23, 30))
        root = ElementTree.fromstring(client.get("/sitemap.xml").get_data())
        locs = {url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")}
        assert "http://127.0.0.1:5000/2014/" in locs
        assert "http://127.0.0.1:5000/2013/" not in locs
        assert client.get("/2014/").status_code == 200

    def test_sitemap_changes_with_the_content(self, app, client):
        etag = client.get("/sitemap.xml").headers["ETag"]
        assert (
            client.get("/sitemap.xml", headers={"If-None-Match": etag}).status_code
            == 304
        )
        add_post(app, "nuovo", datetime(2013, 5, 1))
        fresh = client.get("/sitemap.xml", headers={"If-None-Match": etag})
        assert fresh.status_code == 200
        assert b"/nuovo/" in fresh.get_data()

    def test_robots_points_to_the_sitemap_and_keeps_out_of_admin(self, client):
        response = client.get("/robots.txt")
        assert response.status_code == 200
        assert response.mimetype == "text/plain"
        lines = response.get_data(as_text=True).splitlines()
        assert "Disallow: /admin/" in lines
        assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in lines


def original_post_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Post.id).where(Post.slug == POST_URL[1:-1]))


def test_our_own_post_ids_answer_like_wordpress(app, client):
    response = client.get(f"/?p={original_post_id(app)}")
    assert response.status_code == 301
    assert response.headers["Location"] == POST_URL


@pytest.mark.parametrize(
    ("query", "moved"),
    [
        ("&cpage=2", f"{POST_URL}comment-page-2/"),
        ("&cpage=1", POST_URL),
        ("&feed=rss2", f"{POST_URL}feed/"),
    ],
)
def test_a_numbered_address_keeps_its_comment_page_or_feed(app, client, query, moved):
    response = client.get(f"/?p={original_post_id(app)}{query}")
    assert response.status_code == 301
    assert response.headers["Location"] == moved


@pytest.mark.parametrize(
    ("old", "moved"),
    [
        ("/?feed=rss2", "/feed/"),
        ("/?feed=rss", "/feed/"),
        ("/?feed=atom", "/feed/atom/"),
        ("/?feed=comments-rss2", "/comments/feed/"),
        ("/page/2/", "/?page=2"),
        ("/category/social-media/page/2/", "/category/social-media/?page=2"),
        ("/tag/caffe/page/3", "/tag/caffe/?page=3"),
        ("/2012/10/page/2/", "/2012/10/?page=2"),
        ("/feed/rss2/", "/feed/"),
        ("/feed/rdf/", "/feed/"),
        ("/comments/feed/atom/", "/comments/feed/"),
        ("/index.php?p=7", "/?p=7"),
        (f"/index.php{POST_URL}", POST_URL),
        (f"/?name={POST_URL.strip('/')}", POST_URL),
        (f"/?pagename=chi-siamo{POST_URL}", POST_URL),
        ("/?tag=caffe", "/tag/caffe/"),
        ("/?paged=2", "/?page=2"),
        ("/?paged=1", "/"),
        ("/?s=caffe&paged=2", "/?page=2&s=caffe"),
        ("/?m=2011", "/2011/"),
        ("/?m=201102", "/2011/02/"),
        ("/?m=20110214", "/2011/02/14/"),
        ("/?m=201210&paged=2", "/2012/10/?page=2"),
        # Decoded by the router, quoted again: "?" and "%" keep their meaning.
        ("/index.php/%3Fp=1", "/%3Fp=1"),
        ("/index.php/a%25b/", "/a%25b/"),
        ("/x%3F/page/2/", "/x%3F/?page=2"),
        (
            "/category/marketing/social-media-marketing/",
            "/category/social-media-marketing/",
        ),
        ("/category/a/b/social-media-marketing", "/category/social-media-marketing/"),
        # A child category's pages and feed, in one step.
        (
            "/category/marketing/social-media-marketing/page/2/",
            "/category/social-media-marketing/?page=2",
        ),
        (
            "/category/marketing/social-media-marketing/feed/",
            "/category/social-media-marketing/feed/",
        ),
        (
            "/category/marketing/social-media-marketing/feed/atom/",
            "/category/social-media-marketing/feed/atom/",
        ),
    ],
)
def test_wordpress_listing_and_plain_addresses_move_here(client, old, moved):
    client.get("/")  # the home page kept: the query must not be answered by it
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == moved


@pytest.mark.parametrize(
    "url",
    [
        "/index.php//evil.example/",
        # A browser drops the tab: "/\t/evil.example/" would be "//evil.example/".
        "/index.php/%09/evil.example/",
        "/%09/evil.example/page/2/",
        "/index.php/%5C%5Cevil.example/",
        "/index.php/%0D/evil.example/",
        "/%0A/x/page/2/",
        "/?name=nessun-articolo",
        "/?m=2011-02",
        "/?m=201113",
        # A category's feed is no child category named "feed" (no such feed here).
        "/category/social-media/feed/",
        "/category/social-media/feed/atom/",
        "/page/0/",
    ],
)
def test_what_names_nothing_stays_here_and_missing(client, url):
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 404
    assert all(r.headers["Location"].startswith("/") for r in response.history)
    assert not any(r.headers["Location"].startswith("//") for r in response.history)


@pytest.mark.parametrize(
    "url",
    [
        "/category/social-media-marketing/refuso/",
        "/category/social-media-marketing/comments/",
    ],
)
def test_a_child_of_no_category_is_missing_not_moved(client, url):
    # A 301 to a 404 would be kept by browsers and crawlers for good.
    assert client.get(url).status_code == 404


def test_a_blog_mounted_under_a_path_moves_within_it(client):
    mounted = {"base_url": "http://127.0.0.1:5000/blog/"}
    for old, moved in (
        ("/index.php/uno/", "/blog/uno/"),
        ("/page/2/", "/blog/?page=2"),
        ("/feed/rss2/", "/blog/feed/"),
    ):
        assert client.get(old, **mounted).headers["Location"] == moved, old


def test_a_slug_in_other_letters_case_moves_to_the_post(client):
    response = client.get(POST_URL.upper())
    assert response.status_code == 301
    assert response.headers["Location"] == POST_URL
    assert client.get("/NESSUN-ARTICOLO/").status_code == 404


def test_a_day_has_its_archive(app, client):
    add_post(app, "del-giorno", datetime(2012, 10, 23, 18, 0), title="Del giorno")
    page = BeautifulSoup(client.get("/2012/10/23/").data, "html.parser")
    titles = [a.get_text() for a in page.select(".post-title a")]
    assert "Del giorno" in titles and "Il content manager" not in " ".join(titles)
    assert page.select_one("h1").get_text(strip=True).endswith("23 ottobre 2012")
    assert client.get("/2012/10/24/").status_code == 404
    assert client.get("/2012/02/30/").status_code == 404


@pytest.mark.parametrize(
    ("published", "day", "next_day"),
    [
        # 00:30 in Rome on the day the clocks go forward (23 hours long).
        (datetime(2026, 3, 29, 22, 30), "/2026/03/30/", "/2026/03/29/"),
        # 23:30 in Rome on the day they go back (25 hours long).
        (datetime(2026, 10, 25, 22, 30), "/2026/10/25/", "/2026/10/26/"),
    ],
)
def test_a_post_is_in_one_day_archive_on_the_days_the_clocks_change(
    app, client, published, day, next_day
):
    add_post(app, "ora-legale", published, title="Ora legale")
    assert "Ora legale" in client.get(day).get_data(as_text=True)
    beside = client.get(next_day)
    assert "Ora legale" not in beside.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/2012/10/", "/2012/", "/?s=testo", "/sitemap.xml", "/tag/caffe/"]
)
def test_queries_do_not_grow_with_the_posts(app, client, count_queries, url):
    def add(n: int) -> None:
        add_post(app, f"nuovo-{n}", datetime(2012, 10, 1 + n), body="<p>Testo.</p>")
        with app.app_context():
            tag = db.session.scalar(select(Tag)) or Tag(name="caffè", slug="caffe")
            tag.posts.append(
                db.session.scalar(select(Post).where(Post.slug == f"nuovo-{n}"))
            )
            db.session.add(tag)
            db.session.commit()

    add(0)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for n in range(1, 6):
        add(n)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count


@pytest.mark.parametrize("path", ["/favicon.ico", "/ads.txt", "/non-esiste.html"])
def test_a_file_name_at_the_root_is_a_404_at_once(client, path):
    # Not a permanent redirect to "/favicon.ico/", which would be a 404 too.
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/wp-sitemap.xml", "/sitemap_index.xml"])
def test_wordpress_and_yoast_sitemaps_lead_to_ours(client, path):
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (
        301,
        "/sitemap.xml",
    )


def test_a_comment_page_says_its_number_in_the_title(app, client):
    app.config["COMMENTS_PER_PAGE"] = 5
    first = soup(client.get(POST_URL)).title.get_text()
    second = soup(client.get(f"{POST_URL}comment-page-2/")).title.get_text()
    assert "pagina" not in first
    assert second == first.replace(" – nOwmedia", " – commenti, pagina 2 – nOwmedia")


def test_the_original_pages_english_words_are_marked_english(client):
    page = soup(client.get(POST_URL))
    assert page.select_one("#comments h2 [lang=en]").get_text() == "12 Responses"
    meta = page.select_one(".post-meta")
    assert [s.get_text() for s in meta.select("[lang=en]")][:3] == ["on", "in", "by"]
    assert page.select_one(".scroll-top")["lang"] == "en"


def test_the_neighbour_links_are_named_by_their_posts(client):
    links = soup(client.get(POST_URL)).select(".post-nav a")
    assert links
    for link in links:
        text = link.get_text(" ", strip=True)
        assert link["title"] in text
        assert text.startswith(("« Articolo precedente:", "Articolo successivo:"))


def test_later_pages_of_a_listing_have_their_own_titles_and_lead_back_to_the_first(
    app, client
):
    for n in range(12):
        add_post(app, f"numero-{n}", datetime(2013, 1, 1 + n), title=f"Numero {n}")
    second = BeautifulSoup(client.get("/?page=2").data, "html.parser")
    first_title = BeautifulSoup(client.get("/").data, "html.parser").title.string
    assert second.title.string != first_title
    assert "pagina 2" in second.title.string
    assert second.select_one(".pager a[rel=prev]")["href"] == "/"
    year = BeautifulSoup(client.get("/2013/?page=2").data, "html.parser")
    assert "pagina 2" in year.title.string
    assert year.select_one(".pager a[rel=prev]")["href"] == "/2013/"


def test_a_post_without_categories_shows_no_empty_in(app, client):
    add_post(app, "senza-categoria", datetime(2013, 1, 1), title="Senza categoria")
    page = BeautifulSoup(client.get("/senza-categoria/").data, "html.parser")
    meta = " ".join(page.select_one(".post-meta").get_text().split())
    assert " in " not in meta and "| |" not in meta
    assert meta.startswith("on ") and " by " in meta
