"""Addresses that lead nowhere, asked for again and again (bots probing for
``/wp-admin/``): their 404 is kept like a page, until the content changes."""

from __future__ import annotations

import pytest
from helpers_comments import POST_URL
from sqlalchemy import select

from blog.comments.identity import OWNER_COOKIE
from blog.extensions import db
from blog.models import Author, Category, Post, Tag, WebmentionRequest
from blog.pagecache.versionread import VERSION_SQL
from blog.posts.oldpaths import record_paths

MISSING = [
    "/wp-admin/",
    "/wp-login.php/",
    "/.git/config",
    "/2011/02/nessun-articolo/",
    "/1999/",
    "/category/nessuna/",
    "/non-esiste/feed/",
    f"{POST_URL}comment-page-99/",
]


@pytest.mark.parametrize("path", MISSING)
def test_an_address_asked_again_gets_the_kept_404(app, count_queries, path):
    flask_answer = app.test_client().get(path)
    assert flask_answer.status_code == 404
    with count_queries() as counter:
        again = app.test_client().get(path)
    assert counter.statements == [VERSION_SQL]
    assert again.status_code == 404
    assert again.get_data() == flask_answer.get_data()
    assert list(again.headers) == list(flask_answer.headers)
    assert "Pagina non trovata" in again.get_data(as_text=True)


def test_a_post_published_at_a_kept_address_shows_at_once(app, client):
    with app.app_context():
        author_id = db.session.scalar(select(Post.author_id))
        post = Post(slug="nuovo-articolo", title="Nuovo", author_id=author_id)
        db.session.add(post)
        db.session.commit()
    assert [client.get("/nuovo-articolo/").status_code for _ in range(2)] == [404] * 2
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "nuovo-articolo"))
        post.status, post.published_at = "published", post.created_at
        db.session.commit()
    assert client.get("/nuovo-articolo/").status_code == 200


def test_a_category_shows_once_a_post_in_it_is_published(app, client):
    assert [client.get("/category/nuova/").status_code for _ in range(2)] == [404] * 2
    with app.app_context():
        author_id = db.session.scalar(select(Post.author_id))
        draft = Post(slug="piano-segreto", title="Piano", author_id=author_id)
        draft.categories.append(Category(name="Nuova", slug="nuova"))
        db.session.add(draft)
        db.session.commit()
    # Made by a draft: the planned post is not announced by its category.
    for address in ("/category/nuova/", "/category/nuova/feed/"):
        assert client.get(address).status_code == 404
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "piano-segreto"))
        post.status, post.published_at = "published", post.created_at
        db.session.commit()
    for address in ("/category/nuova/", "/category/nuova/feed/"):
        assert client.get(address).status_code == 200


def test_a_tag_or_an_author_with_nothing_published_is_missing_too(app, client):
    # As a draft's category: a tag only a draft carries, and an account that
    # published nothing, are not announced (nor is the account's existence).
    with app.app_context():
        author = Author(username="ospite", slug="ospite", display_name="Ospite")
        draft = Post(slug="in-arrivo", title="In arrivo", author=author)
        draft.tags.append(Tag(name="Segreto", slug="segreto"))
        db.session.add(draft)
        db.session.commit()
    for address in (
        "/tag/segreto/",
        "/tag/segreto/feed/",
        "/author/ospite/",
        "/author/ospite/feed/",
    ):
        assert client.get(address).status_code == 404, address
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == "in-arrivo"))
        post.status, post.published_at = "published", post.created_at
        db.session.commit()
    for address in ("/tag/segreto/", "/author/ospite/feed/"):
        assert client.get(address).status_code == 200, address


def test_an_old_address_added_later_moves_the_kept_404(app, client):
    old = "/2013/02/vecchio-indirizzo/"
    assert [client.get(old).status_code for _ in range(2)] == [404] * 2
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.status == "published"))
        record_paths(post, [old.rstrip("/")], "test")
        db.session.commit()
        slug = post.slug
    moved = client.get(old)
    assert (moved.status_code, moved.headers["Location"]) == (301, f"/{slug}/")


def test_a_404_that_rows_without_a_version_decide_is_never_kept(app, client):
    # A webmention's status page exists as soon as its request does, and
    # storing a request moves no content version.
    request_id = "a" * 32
    status_url = f"/webmention/{request_id}"
    assert [client.get(status_url).status_code for _ in range(2)] == [404] * 2
    with app.app_context():
        db.session.add(
            WebmentionRequest(
                id=request_id, source="http://127.0.0.2/a", target="http://x/"
            )
        )
        db.session.commit()
    assert client.get(status_url).status_code == 200


def test_a_missing_address_with_a_query_still_reaches_flask(app, count_queries):
    app.test_client().get("/wp-admin/")
    app.test_client().get("/wp-admin/?x=1")
    with count_queries() as counter:
        assert app.test_client().get("/wp-admin/?x=1").status_code == 404
    assert counter.statements != [VERSION_SQL]


@pytest.mark.app_config(
    PAGE_CACHE_SIZE=2, SIDE_PAGE_CACHE_SIZE=2, MISSING_PAGE_CACHE_SIZE=2
)
def test_probing_many_addresses_leaves_the_pages_cached(app, count_queries):
    for url in (POST_URL, "/"):
        app.test_client().get(url)
    for number in range(5):
        assert app.test_client().get(f"/sonda-{number}/").status_code == 404
    for url in (POST_URL, "/"):
        with count_queries() as counter:
            app.test_client().get(url)
        assert counter.statements == [VERSION_SQL], url


def test_a_visitor_with_a_personal_cookie_reaches_flask(app, count_queries):
    app.test_client().get("/wp-admin/")
    visitor = app.test_client()
    visitor.set_cookie(OWNER_COOKIE, "x")
    with count_queries() as counter:
        assert visitor.get("/wp-admin/").status_code == 404
    assert counter.statements != [VERSION_SQL]


HOSTS_FLASK_REFUSES = [
    pytest.param({"Host": "a..b"}, id="two-dots"),
    pytest.param({"Host": "x" * 64}, id="label-of-64"),
    pytest.param(
        {"Host": "altro.example"},
        marks=pytest.mark.app_config(TRUSTED_HOSTS=["localhost"]),
        id="untrusted",
    ),
    pytest.param(
        {"X-Forwarded-Host": "x" * 64},
        marks=pytest.mark.app_config(PROXY_FIX=1),
        id="forwarded",
    ),
]


@pytest.mark.parametrize("headers", HOSTS_FLASK_REFUSES)
@pytest.mark.parametrize("path", ["/non-esiste/", "/.git/config", POST_URL, "/feed/"])
def test_a_host_flask_refuses_gets_its_400_from_a_warm_cache(app, headers, path):
    for _ in range(2):  # kept, and answered from the cache
        app.test_client().get(path)
    assert app.test_client().get(path, headers=headers).status_code == 400
