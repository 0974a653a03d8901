"""Moving in without losing a link: the WordPress import keeps the old addresses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from helpers_admin import press, soup
from helpers_wxr import WXR
from sqlalchemy import func, select

from blog import create_app
from blog.comments.threads import Node, page_anchors
from blog.extensions import db
from blog.models import Category, Comment, OldPath, Post, Tag
from blog.ops.schema import upgrade_database
from blog.posts.oldpaths import normalise_path, record_paths, wordpress_paths
from blog.wxr import read_wxr

NEW = "/caffe-e-community/"


@pytest.fixture
def imported(app, runner, tmp_path):
    """The helper export, imported once by the command."""
    path = tmp_path / "export.xml"
    path.write_text(WXR, encoding="utf-8")
    result = runner.invoke(args=["import-wxr", str(path)])
    assert result.exit_code == 0, result.output
    return path


def old_paths() -> dict[str, str]:
    rows = db.session.execute(
        select(OldPath.path, Post.slug).join(Post, OldPath.post_id == Post.id)
    )
    return dict(rows.all())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://old.example/2011/02/A-Post/?utm_source=x", "/2011/02/a-post"),
        ("https://old.example/caff%C3%A8/", "/caffè"),
        ("https://old.example/?p=41", "/?p=41"),
        ("https://old.example/?p=41&amp=1", "/?p=41"),
        ("https://old.example/?page_id=2", "/?page_id=2"),
        ("https://old.example/?page_id=x", "/"),
        ("/2011/02/a-post", "/2011/02/a-post"),
    ],
)
def test_old_addresses_are_kept_normalised(url, expected):
    assert normalise_path(url) == expected


def test_the_front_page_is_never_an_old_address_of_a_post():
    assert wordpress_paths("https://old.example/", "", 0) == []
    # A broken link in an export (a bracket where the host is) is no
    # address, not an import stopped by a traceback.
    assert wordpress_paths("http://[old.example/2011/a/", "", 7) == ["/?p=7"]


def test_import_records_permalink_and_post_id_of_every_post(app, imported):
    with app.app_context():
        assert old_paths() == {
            "/2013/02/caffe-e-community": "caffe-e-community",
            "/?p=42": "caffe-e-community",
            "/?p=43": "bozza-il-te",
            # A page: its permalink (recorded though it is its address here
            # too: the slug may change here later), its guid, both numbers.
            "/chi-siamo": "chi-siamo",
            "/?page_id=2": "chi-siamo",
            "/?p=2": "chi-siamo",
        }


def test_a_pages_old_addresses_lead_to_the_page(client, imported):
    client.get("/")  # the home page now in the page cache, which must not answer
    for old in ("/chi-siamo/", "/?page_id=2", "/?p=2"):
        response = client.get(old)
        if old == "/chi-siamo/":  # the same address here
            assert response.status_code == 200
            continue
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith("/chi-siamo/"), old


def test_a_missing_comment_page_at_a_kept_address_is_missing_not_a_loop(
    client, imported
):
    # "/chi-siamo" is both the page's address here and its recorded old one.
    for asked in ("/chi-siamo/comment-page-2/", "/chi-siamo/comment-page-2/?x=1"):
        assert client.get(asked).status_code == 404
    # The same with the blog mounted under a path.
    mounted = client.get("/chi-siamo/comment-page-2/", base_url="http://localhost/blog")
    assert mounted.status_code == 404
    # An old number leads once to the comment page it named, which is missing.
    moved = client.get("/?page_id=2&cpage=2")
    assert moved.status_code == 301
    assert client.get(moved.headers["Location"]).status_code == 404


def test_an_old_address_ending_in_html_moves_in_one_step(app, client):
    # WordPress's "/%postname%.html" structure.
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.status == "published"))
        record_paths(post, ["/2011/06/il-post.html", "/il-post.html"], "test")
        db.session.commit()
        slug = post.slug
    for old in ("/il-post.html", "/2011/06/il-post.html"):
        response = client.get(old)
        assert (response.status_code, response.headers["Location"]) == (
            301,
            f"/{slug}/",
        ), old


def test_a_second_import_adds_no_old_address(app, runner, imported):
    result = runner.invoke(args=["import-wxr", str(imported)])
    assert result.exit_code == 0, result.output
    assert "old addresses: 0 added" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OldPath)) == 6


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/2013/02/caffe-e-community/", NEW),
        ("/2013/02/caffe-e-community", NEW),
        ("/2013/02/Caffe-E-Community/?utm_source=feed", NEW),
        ("/?p=42", NEW),
        ("/2013/02/caffe-e-community/comment-page-2/", NEW + "comment-page-2/"),
        ("/2013/02/caffe-e-community/comment-page-1/", NEW),
        ("/2013/02/caffe-e-community/amp/", NEW),
        ("/2013/02/caffe-e-community/embed/", NEW),
        ("/2013/02/caffe-e-community/trackback/", NEW),
        # The second page of a post split by <!--nextpage-->: one page here.
        ("/2013/02/caffe-e-community/2/", NEW),
        ("/2013/02/caffe-e-community/feed/", NEW + "feed/"),
        ("/2013/02/caffe-e-community/feed/atom/", NEW + "feed/"),
        ("/2013/02/caffe-e-community/feed/rss2", NEW + "feed/"),
    ],
)
def test_every_old_address_answers_301_to_the_post(client, imported, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new


def test_an_old_post_whose_own_slug_is_a_suffix_keeps_its_address(app, client):
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.status == "published"))
        record_paths(post, ["/2019/05/amp", "/2019/05/feed"], "test")
        db.session.commit()
        slug = post.slug
    for old in ("/2019/05/amp/", "/2019/05/feed/"):
        response = client.get(old)
        assert (response.status_code, response.headers["Location"]) == (
            301,
            f"/{slug}/",
        )


@pytest.mark.parametrize(
    "old",
    [
        "/2013/02/another-post/",
        "/2013/02/another-post/feed/",
        "/2013/02/caffe-e-community/feed/json/",
        "/2013/02/caffe-e-community/0/",
        "/2013/02/caffe-e-community/2/3/",
        "/amp/",
        "/?p=43",
        "/?p=999999",
        "/?p=x",
        "/?p=%C2%B2",
        "/non-esiste/?p=%C2%B2",
        "/non-esiste/?p=99999999999999999999",
    ],
)
def test_unknown_old_addresses_and_drafts_are_404(client, imported, old):
    assert client.get(old).status_code == 404


def test_a_normal_page_does_not_look_for_old_addresses(
    app, client, imported, count_queries
):
    client.get(NEW)  # warm the page cache
    with count_queries() as counter:
        assert client.get(NEW).status_code == 200
    assert not any("old_path" in sql for sql in counter.statements)


def test_the_old_comment_anchors_are_on_the_page(app, client, imported):
    page = soup(client.get(NEW))
    with app.app_context():
        comments = db.session.scalars(
            select(Comment).where(Comment.status == "approved", Comment.legacy_id > 0)
        ).all()
        legacy = {c.legacy_id for c in comments}
    assert legacy == {10, 11, 12, 13, 14}
    for number in legacy:
        assert page.select_one(f"li#comment-{number}") is not None
    ids = [tag["id"] for tag in page.select("[id]")]
    assert len(ids) == len(set(ids))
    # Replies are nested under their parent, by their old ids too.
    assert page.select_one("#comment-10 > ol.children > #comment-11")


def test_a_comment_of_ours_yields_an_old_anchor_it_collides_with():
    imported = Comment(id=3, legacy_id=10, post_id=1)
    ours = Comment(id=10, post_id=1)
    other = Comment(id=11, post_id=1)
    anchors = page_anchors([Node(imported, children=[Node(ours)]), Node(other)])
    assert anchors == {3: "comment-10", 10: "risposta-10", 11: "comment-11"}


def test_the_permalink_of_a_colliding_comment_uses_its_page_anchor(
    app, client, imported
):
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "caffe-e-community"))
        post_id = post.id
        free = db.session.scalar(select(func.max(Comment.id))) + 1
        old = db.session.scalar(select(Comment).where(Comment.legacy_id == 10))
        old.legacy_id = free  # the next comment of ours gets this very number
        ours = Comment(
            post=post, content="Nuovo", content_html="<p>Nuovo</p>", status="approved"
        )
        db.session.add(ours)
        db.session.flush()
        ours.thread_id = ours.id
        db.session.commit()
        assert ours.id == free
    page = soup(client.get(NEW))
    assert page.select_one(f"li#comment-{free}").select_one(".comment-content").text
    assert page.select_one(f"li#risposta-{free}") is not None
    location = client.get(f"/comment/{free}/").headers["Location"]
    assert location == f"{NEW}#risposta-{free}"
    # An old link's #comment-N on the post's page (the anchor script asks
    # with the post): WordPress's comment N, the imported one.
    named = client.get(f"/comment/{free}/?post={post_id}").headers["Location"]
    assert named == f"{NEW}#comment-{free}"
    assert client.get(f"/comment/{free}/?post={post_id + 1}").status_code == 404


def test_imported_tags_have_their_archive(app, client, imported):
    with app.app_context():
        assert db.session.scalars(select(Tag.slug)).all() == ["espresso"]
    page = soup(client.get("/tag/espresso/"))
    assert page.select_one("h1").get_text(strip=True) == "Archivio: espresso"
    assert page.select_one(f".post-title a[href='{NEW}']")
    assert client.get("/tag/ristretto/").status_code == 404


def test_a_tag_as_long_as_wordpress_allows_is_cut_to_the_columns(app, runner, tmp_path):
    # WordPress keeps 200 characters of a term's name and slug, we 120:
    # PostgreSQL refused the whole file.
    name = "caffè lungo " * 16
    long_tag = f'nicename="{"l" * 200}"><![CDATA[{name[:200]}]]>'
    path = tmp_path / "export.xml"
    path.write_text(
        WXR.replace('nicename="espresso"><![CDATA[espresso]]>', long_tag),
        encoding="utf-8",
    )
    for _ in range(2):  # the second run finds it there
        result = runner.invoke(args=["import-wxr", str(path)])
        assert result.exit_code == 0, result.output
    with app.app_context():
        [(stored_name, slug)] = db.session.execute(select(Tag.name, Tag.slug)).all()
    assert (stored_name, slug) == (name[:120], "l" * 120)


def test_a_category_as_long_as_wordpress_allows_is_cut_to_the_columns(
    app, runner, tmp_path
):
    path = tmp_path / "export.xml"
    long_name = "Comunità " * 25
    text = WXR.replace("comunita", "c" * 200).replace("Comunità", long_name[:200])
    path.write_text(text, encoding="utf-8")
    for _ in range(2):  # the second run finds it there
        result = runner.invoke(args=["import-wxr", str(path)])
        assert result.exit_code == 0, result.output
    with app.app_context():
        names = db.session.execute(
            select(Category.name).where(Category.slug == "c" * 120)
        ).scalars()
        assert list(names) == [long_name[:120]]


def test_the_author_sees_and_removes_old_addresses(app, author_client, imported):
    page = soup(author_client.get("/admin/old-paths"))
    rows = [row.select_one("code").text for row in page.select("table tbody tr")]
    assert rows == [
        "/2013/02/caffe-e-community",
        "/?p=2",
        "/?p=42",
        "/?p=43",
        "/?page_id=2",
        "/chi-siamo",
    ]
    row = next(r for r in page.select("tbody tr") if r.code.text == "/?p=42")
    response = press(author_client, page, "Rimuovi", within=row)
    assert response.status_code == 302
    assert author_client.get("/?p=42").status_code == 404
    assert author_client.get("/2013/02/caffe-e-community/").status_code == 301


def test_removing_needs_the_csrf_token(app, author_client, imported):
    with app.app_context():
        path_id = db.session.scalar(select(OldPath.id).where(OldPath.path == "/?p=42"))
    assert author_client.post(f"/admin/old-paths/{path_id}/delete").status_code == 400
    assert author_client.get("/?p=42").status_code == 301


def test_the_old_addresses_page_is_for_the_author(client, imported):
    response = client.get("/admin/old-paths")
    assert response.status_code in (302, 303)


def test_tags_go_back_out_in_the_export(app, runner, imported, tmp_path):
    out = tmp_path / "out.xml"
    assert runner.invoke(args=["export-wxr", str(out)]).exit_code == 0
    item = next(i for i in read_wxr(str(out)).posts if i.slug == "caffe-e-community")
    assert [(t.slug, t.name) for t in item.tags] == [("espresso", "espresso")]


@contextmanager
def moved_blog(exported, database_url) -> Iterator[Flask]:
    """A new blog on ``database_url``, at another address, that ``exported``
    (a WXR file) moved into."""
    moved = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": database_url,
            "SITE_URL": "https://nuovo.example.org",
        }
    )
    try:
        with moved.app_context():
            upgrade_database()
        result = moved.test_cli_runner().invoke(args=["import-wxr", str(exported)])
        assert result.exit_code == 0, result.output
        yield moved
    finally:
        with moved.app_context():
            db.engine.dispose()


def moved_by_export(runner, tmp_path, database_url):
    """This blog's own export, moved into a new blog on ``database_url``."""
    exported = tmp_path / "moved.xml"
    assert runner.invoke(args=["export-wxr", str(exported)]).exit_code == 0
    return moved_blog(exported, database_url)


def assert_moved(client, olds, new: str) -> None:
    for old in olds:
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == new, old


def test_a_second_move_by_export_keeps_the_wordpress_links(
    app, runner, imported, tmp_path, empty_database_url
):
    # The blog moved in from WordPress; it now moves again, by its own export.
    with moved_by_export(runner, tmp_path, empty_database_url) as moved:
        client = moved.test_client()
        assert_moved(client, ("/2013/02/caffe-e-community/", "/?p=42"), NEW)
        page = soup(client.get(NEW))
        for number in (10, 11, 12, 13, 14):
            assert page.select_one(f"li#comment-{number}") is not None
        # Moving the same file in again adds nothing.
        exported = tmp_path / "moved.xml"
        again = moved.test_cli_runner().invoke(args=["import-wxr", str(exported)])
        assert "posts: 0 added" in again.output
        assert "comments: 0 added" in again.output


def test_a_second_move_keeps_wordpress_numbers_over_the_blogs_own(
    app, runner, imported, tmp_path, empty_database_url
):
    # The page was WordPress's post 2; here post 2 is another post, whose own
    # number the export writes too (guid, wp:post_id), earlier in the file.
    with app.app_context():
        numbers = dict(db.session.execute(select(Post.slug, Post.id)).all())
    assert numbers["chi-siamo"] != 2
    with moved_by_export(runner, tmp_path, empty_database_url) as moved:
        client = moved.test_client()
        assert_moved(client, ("/?p=2", "/?page_id=2"), "/chi-siamo/")
        # The exporting blog's own numbers still lead where WordPress's do not.
        assert_moved(client, [f"/?p={numbers['caffe-e-community']}"], NEW)
