"""The post page cache: fast for anonymous readers, never stale, never shared."""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import url_for
from helpers_admin import add_comment, page_version
from helpers_comments import (
    POST_URL,
    old_stamp,
    send_comment,
    sign_in_author,
    soup,
    the_post,
)
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.pool import NullPool
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

import blog
from blog import create_app
from blog.accounts.session import end_all_sessions
from blog.comments import page as comments_page
from blog.comments.identity import OWNER_COOKIE
from blog.comments.operations import NewResponse, add_response
from blog.comments.page import page_changes_at
from blog.core.settings import CommentSettings, content_version, save_settings
from blog.database import insert_or_ignore
from blog.extensions import db
from blog.models import Author, Comment, Post, Setting, utcnow
from blog.pagecache import cache as pagecache_cache
from blog.pagecache import wsgi as pagecache_wsgi
from blog.pagecache.cache import (
    CSRF_PLACEHOLDER,
    STAMP_PLACEHOLDER,
    CachedPage,
    PageCache,
    site_release,
)
from blog.pagecache.versionread import (
    KEPT_CONNECTIONS,
    VERSION_SQL,
    ContentVersionReader,
)
from blog.pagecache.wsgi import _FLASKS_HOME_ARGS, _query_args
from blog.posts.oldpaths import ID_QUERIES
from blog.posts.oldqueries import SLUG_QUERIES
from blog.seed.loader import load_seed


def _approve_all(app) -> None:
    with app.app_context():
        db.session.execute(update(Comment).values(status="approved"))
        db.session.commit()


def csrf_token_of(response) -> str:
    return soup(response).select_one("input[name=csrf_token]")["value"]


def shared_etag(response) -> str:
    """The part of a post page's ETag that names the page, without the part
    that names its visitor's CSRF token (``personal_etag``)."""
    return response.headers["ETag"].strip('"').split("-")[0]


def test_second_anonymous_view_is_served_from_the_cache(client, count_queries):
    with count_queries() as first:
        client.get(POST_URL)
    with count_queries() as second:
        response = client.get(POST_URL)
    assert response.status_code == 200
    assert second.count == 1  # the settings row set, which carries the version
    assert first.count > second.count
    assert len(soup(response).select("ol.commentlist > li")) == 12


def test_cached_page_carries_each_visitors_own_token(app):
    app.config["COMMENT_FLOOD_SECONDS"] = 0  # both readers share the test IP
    first, second = app.test_client(), app.test_client()
    page_one, page_two = first.get(POST_URL), second.get(POST_URL)
    for response in (page_one, page_two):
        html = response.get_data(as_text=True)
        assert CSRF_PLACEHOLDER not in html and STAMP_PLACEHOLDER not in html
    token = soup(page_one).select_one("input[name=csrf_token]")["value"]
    assert token != soup(page_two).select_one("input[name=csrf_token]")["value"]
    # Both visitors can post with the token their copy of the cached page gave.
    assert send_comment(first, app, "Primo lettore.").status_code == 302
    assert (
        send_comment(
            second, app, "Secondo lettore.", author="Marco", email="marco@example.org"
        ).status_code
        == 302
    )


@pytest.mark.parametrize("path", [POST_URL, "/", "/sitemap.xml"])
def test_if_none_match_is_read_as_a_list_of_tags(client, path):
    etag = client.get(path).headers["ETag"]
    client.get(path)  # kept: the next ones are answered from the cache
    for header in (etag, f"W/{etag}", f'"altro", {etag}'):
        assert client.get(path, headers={"If-None-Match": header}).status_code == 304
    # A header that merely holds the tag's text names another version.
    longer = etag[:-1] + '0"'
    assert client.get(path, headers={"If-None-Match": longer}).status_code == 200
    # "*" would claim a page before it is known to exist.
    assert (
        client.head("/non-esiste/", headers={"If-None-Match": "*"}).status_code == 404
    )


def test_head_is_answered_as_get_without_the_body(client):
    got = client.get(POST_URL)
    head = client.head(POST_URL)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == got.headers["ETag"]
    assert head.headers["Cache-Control"] == got.headers["Cache-Control"]
    again = client.head(POST_URL, headers={"If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304


def test_etag_answers_304_until_the_page_changes(app, client):
    response = client.get(POST_URL)
    etag = response.headers["ETag"]
    assert response.headers["Cache-Control"] == "private, no-cache"
    again = client.get(POST_URL, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    add_comment(app, status="approved")
    changed = client.get(POST_URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "13 Responses" in changed.get_data(as_text=True)


def test_a_post_closing_by_age_is_a_new_page_for_the_cache_and_the_browser(
    app, client, monkeypatch
):
    with app.app_context():
        save_settings(CommentSettings(close_after_days=30))
        the_post().published_at = utcnow() - timedelta(days=30, seconds=-60)
        db.session.commit()
    open_page = client.get(POST_URL)
    etag = open_page.headers["ETag"]
    assert soup(open_page).select_one("form.comment-form") is not None
    assert client.get(POST_URL, headers={"If-None-Match": etag}).status_code == 304
    # Two minutes later: the post has closed, well within the cache's lifetime.
    later = SimpleNamespace(time=lambda: time.time() + 120)
    monkeypatch.setattr(pagecache_cache, "time", later)
    monkeypatch.setattr(pagecache_wsgi, "time", later)
    monkeypatch.setattr(
        comments_page, "utcnow", lambda: utcnow() + timedelta(minutes=2)
    )
    closed = client.get(POST_URL, headers={"If-None-Match": etag})
    assert closed.status_code == 200
    assert soup(closed).select_one("form.comment-form") is None
    assert soup(closed).select_one(".comments-closed") is not None
    assert closed.headers["ETag"] != etag
    stranger = app.test_client().get(POST_URL)
    assert soup(stranger).select_one("form.comment-form") is None
    assert shared_etag(stranger) == shared_etag(closed)


def test_a_page_rendered_open_at_the_closing_instant_is_kept_until_then(app):
    # The form is open while now <= the closing moment: a page whose rendering
    # began at that very instant (or before it) showed the form, and must
    # leave the cache then, however long the rendering took.
    with app.app_context():
        save_settings(CommentSettings(close_after_days=30))
        post = the_post()
        post.published_at = datetime(2026, 1, 1, 12, 0)
        db.session.commit()
        closes = datetime(2026, 1, 31, 12, 0)
        expected = closes.replace(tzinfo=UTC).timestamp()
        assert page_changes_at(post, closes) == expected
        assert page_changes_at(post, closes - timedelta(seconds=5)) == expected
        # Rendered after it: the page shows the closed post for good.
        assert page_changes_at(post, closes + timedelta(microseconds=1)) is None


def test_a_304_for_a_post_page_varies_on_the_cookie_as_the_page_does(
    app, client, make_app
):
    etag = client.get(POST_URL).headers["ETag"]
    hit = client.get(POST_URL, headers={"If-None-Match": etag})  # before Flask
    other_worker = make_app(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    # The same browser (its session), served by another worker.
    browser = other_worker.test_client()
    cookie = app.config["SESSION_COOKIE_NAME"]
    browser.set_cookie(cookie, client.get_cookie(cookie).value)
    missed = browser.get(POST_URL, headers={"If-None-Match": etag})
    with other_worker.app_context():
        db.session.remove()
        db.engine.dispose()
    for response in (hit, missed):
        assert response.status_code == 304
        assert "Cookie" in response.headers["Vary"]


def test_a_browser_whose_session_ended_gets_its_copy_again_with_a_new_token(
    app, client, make_app
):
    # Closed and opened again (its session cookie gone), the browser asks
    # whether its copy is current: not with a token no session holds, or the
    # first comment it sends would be refused for want of cookies.
    first = client.get(POST_URL)
    etag, token = first.headers["ETag"], csrf_token_of(first)
    assert client.get(POST_URL, headers={"If-None-Match": etag}).status_code == 304
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    other_worker = make_app(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    pages = []
    for worker in (client, other_worker.test_client()):  # before Flask, and in it
        again = worker.get(POST_URL, headers={"If-None-Match": etag})
        assert again.status_code == 200
        assert "Set-Cookie" in again.headers
        assert csrf_token_of(again) != token
        assert again.headers["ETag"] != etag
        pages.append(again)
    with other_worker.app_context():
        db.session.remove()
        db.engine.dispose()
    # The form of the page the browser got back is sent as it is: stored.
    form = soup(pages[0]).select_one("form.comment-form")
    data = {
        field["name"]: field.get("value", "") for field in form.select("input[name]")
    }
    post_id = int(soup(pages[0]).select_one("article.post")["id"].removeprefix("post-"))
    data.update(
        author="Lucia",
        email="lucia@example.org",
        comment="Primo commento dopo la riapertura.",
        stamp=old_stamp(app, post_id),
    )
    assert client.post(form["action"], data=data).status_code == 302


def test_approval_shows_at_once_even_to_a_reader_with_a_cached_copy(app):
    reader, writer = app.test_client(), app.test_client()
    reader.get(POST_URL)  # fills the cache
    send_comment(writer, app, "Un commento da approvare.")
    assert "Un commento da approvare." not in reader.get(POST_URL).get_data(
        as_text=True
    )
    _approve_all(app)  # a bulk UPDATE, as the queue's bulk actions do
    assert "Un commento da approvare." in reader.get(POST_URL).get_data(as_text=True)


@pytest.mark.parametrize("status", ["approved", "pending"])
def test_a_response_stored_approved_shows_at_once_a_held_one_leaves_the_page(
    app, client, status
):
    """Through the one way in (one INSERT, outside the unit of work), as a
    ping, the author's reply or an import stores it."""
    client.get(POST_URL)  # fills the cache
    version = page_version(app)
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == POST_URL.strip("/")))
        new = NewResponse(content="Inserito.", author_name="Ada", status=status)
        add_response(post, new)
    page = client.get(POST_URL).get_data(as_text=True)
    assert (page_version(app) != version) == (status == "approved")
    assert ("Inserito." in page) == (status == "approved")


def _set_status(app, comment_id: int, status: str) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = status
        db.session.commit()


def test_a_held_or_spam_comment_leaves_the_readers_cached_page_alone(
    app, client, count_queries
):
    client.get(POST_URL)  # fills the cache
    version = page_version(app)
    assert send_comment(app.test_client(), app, "Trattenuto.").status_code == 302
    with app.app_context():
        held = db.session.scalar(
            select(Comment.id).where(Comment.content == "Trattenuto.")
        )
    _set_status(app, held, "spam")
    _set_status(app, held, "pending")
    assert page_version(app) == version
    with count_queries() as hit:
        assert client.get(POST_URL).status_code == 200
    assert hit.count == 1  # still the cached page
    _set_status(app, held, "approved")  # on the page: every cached copy goes
    approved = page_version(app)
    assert approved != version
    assert "Trattenuto." in client.get(POST_URL).get_data(as_text=True)
    _set_status(app, held, "trash")  # off the page again
    assert page_version(app) != approved
    assert "Trattenuto." not in client.get(POST_URL).get_data(as_text=True)


def test_a_status_set_without_reading_the_old_one_counts_as_shown(app):
    with app.app_context():
        comment = db.session.scalar(select(Comment).where(Comment.status == "approved"))
        db.session.commit()  # expires it: its status is not loaded any more
        version = content_version()
        comment.status = "spam"  # was approved: the page must change
        db.session.commit()
    assert page_version(app) != version


def test_deleting_a_trashed_parent_brings_its_reply_up_and_renews_the_page(app):
    parent = add_comment(app, status="approved", content="Il genitore.")
    reply = add_comment(app, status="approved", parent_id=parent)
    _set_status(app, parent, "trash")
    version = page_version(app)
    with app.app_context():
        db.session.delete(db.session.get(Comment, parent))
        db.session.commit()
        # Its approved reply now stands on the page on its own (SET NULL).
        assert db.session.get(Comment, reply).parent_id is None
    assert page_version(app) != version


def test_a_commit_makes_the_request_read_the_version_again(app):
    # What is kept by content version later in the same request (the post's
    # counts) must not be filed under the version from before the commit.
    with app.test_request_context():
        before = content_version()
        post = db.session.scalar(select(Post))
        post.title += "!"
        db.session.commit()
        assert content_version() not in ("", before)
        assert content_version() == page_version(app)


def test_a_version_row_another_worker_wrote_first_is_left_alone(app):
    # Two workers' first commits on a database without the row both insert it:
    # the second gives way instead of failing its request.
    with app.app_context():
        db.session.execute(delete(Setting).where(Setting.key == "responses_version"))
        for value in ("primo", "secondo"):
            row = {"key": "responses_version", "value": value}
            db.session.execute(
                insert_or_ignore(db.session(), Setting.__table__, "key", **row)
            )
        kept = db.session.scalar(
            select(Setting.value).where(Setting.key == "responses_version")
        )
        assert kept == "primo"
        db.session.commit()


def test_pending_comment_and_saved_details_stay_with_their_browser(app):
    writer, other = app.test_client(), app.test_client()
    other.get(POST_URL)
    send_comment(
        writer,
        app,
        "Solo io lo vedo.",
        author="Giulia",
        email="giulia@example.org",
        consent="y",
    )
    mine = writer.get(POST_URL).get_data(as_text=True)
    assert "Solo io lo vedo." in mine and "in attesa di moderazione" in mine
    assert "giulia@example.org" in mine  # pre-filled from the consent cookie
    theirs = other.get(POST_URL).get_data(as_text=True)
    assert "Solo io lo vedo." not in theirs
    assert "Giulia" not in theirs and "giulia@example.org" not in theirs


def test_another_worker_sees_the_change_at_once(app, make_app):
    other_worker = make_app(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    client = other_worker.test_client()
    assert "12 Responses" in client.get(POST_URL).get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(Post).values(title="Titolo cambiato"))
        db.session.add(
            Comment(
                post_id=1,
                status="approved",
                author_name="X",
                content="Visto",
                content_html="<p>Visto</p>",
            )
        )
        db.session.commit()
    html = client.get(POST_URL).get_data(as_text=True)
    assert "13 Responses" in html and "Titolo cambiato" in html
    with other_worker.app_context():
        db.session.remove()
        db.engine.dispose()


def test_signed_in_or_personal_requests_are_never_cached(app, count_queries):
    client = app.test_client()
    client.get(POST_URL)
    sign_in_author(client)
    with count_queries() as counter:
        html = client.get(POST_URL).get_data(as_text=True)
    assert counter.count > 1
    assert "Stai commentando come Riccardo Scarascia" in html
    replying = client.get(POST_URL + "?replytocom=1")
    assert 'name="robots"' in replying.get_data(as_text=True)


def test_a_revoked_session_reads_the_post_page_as_a_reader(app):
    client = app.test_client()
    sign_in_author(client)
    with app.app_context():
        end_all_sessions(db.session.get(Author, 1))
        db.session.commit()
    page = soup(client.get(POST_URL))
    assert "Stai commentando come" not in page.get_text()
    assert page.select_one("form.comment-form input[name=author]") is not None


def test_a_hit_served_before_flask_matches_flasks_answer(app, count_queries):
    flask_answer = app.test_client().get(POST_URL)
    with count_queries() as counter:
        hit = app.test_client().get(POST_URL)
    assert counter.statements == [VERSION_SQL]
    for name in (
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Pingback",
        "Link",
        "Content-Type",
        "Cache-Control",
    ):
        assert hit.headers.get(name) == flask_answer.headers.get(name), name
    assert shared_etag(hit) == shared_etag(flask_answer)
    assert "HttpOnly" in hit.headers["Set-Cookie"]
    assert soup(hit).select_one("#comments h2").get_text() == "12 Responses"


def test_the_home_page_is_answered_before_flask_for_everybody(app, count_queries):
    flask_answer = app.test_client().get("/")
    for visitor in (app.test_client(), app.test_client()):
        visitor.set_cookie(OWNER_COOKIE, "x")  # nothing of a visitor is on it
        with count_queries() as counter:
            hit = visitor.get("/")
        assert counter.statements == [VERSION_SQL]
        assert hit.get_data() == flask_answer.get_data()
        for name in ("Content-Security-Policy", "Content-Type", "ETag"):
            assert hit.headers.get(name) == flask_answer.headers.get(name), name
        assert hit.headers["Cache-Control"] == "private, no-cache"
        assert "Set-Cookie" not in hit.headers
    assert "12 Comments" in flask_answer.get_data(as_text=True)


def test_the_home_page_shows_a_change_at_once_and_revalidates(app, client):
    client.get("/")  # fills the cache
    first = client.get("/")
    etag = first.headers["ETag"]
    unchanged = client.get("/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.get_data() == b""
    add_comment(app, status="approved")
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "13 Comments" in changed.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["utm_source=newsletter", "fbclid=abc&x=1", "a=%ff", "x=" + "y" * 500]
)
def test_a_post_page_with_arguments_it_does_not_read_is_the_shared_copy(
    app, count_queries, query
):
    plain = app.test_client().get(POST_URL)  # Flask fills the shared copy
    with count_queries() as counter:
        tagged = app.test_client().get(f"{POST_URL}?{query}")
    assert counter.statements == [VERSION_SQL]
    assert shared_etag(tagged) == shared_etag(plain)
    assert tagged.headers["Cache-Control"] == "private, no-cache"
    assert len(soup(tagged).select("ol.commentlist > li")) == 12


def test_flask_fills_the_shared_copy_for_a_request_with_such_arguments(
    app, count_queries
):
    first = app.test_client().get(f"{POST_URL}?utm_source=segnaposto-unico&n=1")
    assert first.headers["Cache-Control"] == "private, no-cache"
    with count_queries() as counter:
        plain = app.test_client().get(POST_URL)
    assert counter.statements == [VERSION_SQL]
    assert shared_etag(plain) == shared_etag(first)
    for response in (first, plain):
        assert "segnaposto-unico" not in response.get_data(as_text=True)


def test_the_arguments_a_post_page_reads_still_reach_flask(app, count_queries):
    for _ in range(2):
        app.test_client().get(POST_URL)  # the shared copy is there
    with count_queries() as counter:
        replying = app.test_client().get(f"{POST_URL}?replytocom=1&utm_source=x")
    assert counter.statements != [VERSION_SQL]
    assert soup(replying).select_one('meta[name="robots"]') is not None
    moved = app.test_client().get(f"{POST_URL}?cpage=1&fbclid=abc")
    assert moved.status_code == 301
    # A NUL is refused wherever it is, the shared copy notwithstanding.
    assert app.test_client().get(f"{POST_URL}?x=%00").status_code == 400


def _reply_page(app, count_queries, query: str):
    visitor = app.test_client()
    with count_queries() as counter:
        response = visitor.get(f"{POST_URL}?{query}")
    assert response.status_code == 200
    page = soup(response)
    html = response.get_data(as_text=True)
    assert CSRF_PLACEHOLDER not in html and STAMP_PLACEHOLDER not in html
    return response, page, counter


def test_the_reply_form_is_one_shared_copy_per_comment_it_answers(app, count_queries):
    with app.app_context():
        target = db.session.scalar(
            select(Comment.id).where(
                Comment.status == "approved",
                Comment.type == "comment",
                Comment.parent_id.is_(None),
            )
        )
    first, page, made = _reply_page(app, count_queries, f"replytocom={target}")
    again, page_again, hit = _reply_page(app, count_queries, f"replytocom={target}")
    for shown in (page, page_again):
        assert shown.select_one("input[name=comment_parent]")["value"] == str(target)
        assert shown.select_one('meta[name="robots"]') is not None
    # The second reader's page is the kept one: no thread is read again.
    assert len(hit.statements) < len(made.statements)
    # Two look-ups: the settings, the comment answered (the post's row is kept
    # with the content version the settings hold).
    assert len(hit.statements) == 2
    assert not any("LIMIT" in statement for statement in hit.statements)
    assert shared_etag(again) == shared_etag(first)
    assert again.headers["Cache-Control"] == "private, no-cache"
    tokens = {
        shown.select_one("input[name=csrf_token]")["value"]
        for shown in (page, page_again)
    }
    assert len(tokens) == 2  # each reader's own
    other, _, _ = _reply_page(app, count_queries, "replytocom=0")
    assert shared_etag(other) != shared_etag(first)


def test_every_reply_target_that_names_nothing_shares_one_copy(app, count_queries):
    first, _, _ = _reply_page(app, count_queries, "replytocom=999999")
    for query in ("replytocom=abc", "replytocom=0&utm_source=x", "replytocom="):
        other, page, hit = _reply_page(app, count_queries, query)
        assert shared_etag(other) == shared_etag(first)
        assert page.select_one("input[name=comment_parent]")["value"] == "0"
        assert not any("LIMIT" in statement for statement in hit.statements)


@pytest.mark.app_config(PAGE_CACHE_SIZE=2, SIDE_PAGE_CACHE_SIZE=2)
def test_walking_every_reply_form_and_posts_feed_leaves_the_main_cache_alone(
    app, count_queries
):
    with app.app_context():
        targets = db.session.scalars(
            select(Comment.id).where(
                Comment.status == "approved", Comment.type == "comment"
            )
        ).all()
    assert len(targets) > 2
    for url in (POST_URL, "/", "/feed/"):  # in the main cache, of size 2
        app.test_client().get(url)
    for target in targets:
        assert (
            app.test_client().get(f"{POST_URL}?replytocom={target}").status_code == 200
        )
    assert app.test_client().get(f"{POST_URL}feed/").status_code == 200
    for url in ("/", "/feed/"):  # the two most recent of the main cache
        with count_queries() as counter:
            app.test_client().get(url)
        assert counter.statements == [VERSION_SQL], url


@pytest.mark.app_config(SIDE_PAGE_CACHE_MB=1)
def test_reply_forms_of_a_heavy_page_are_kept_within_the_megabytes(app):
    # A long thread makes a page of megabytes, and each comment's reply form
    # is a copy of it: the side cache keeps as many as its bytes allow.
    long_text = "<p>" + "parola " * 50_000 + "</p>"
    add_comment(app, content=long_text, content_html=long_text, status="approved")
    with app.app_context():
        targets = db.session.scalars(
            select(Comment.id).where(Comment.status == "approved")
        ).all()
    for target in targets:
        response = app.test_client().get(f"{POST_URL}?replytocom={target}")
        assert response.status_code == 200
        assert len(response.data) > 350_000
    cache = app.extensions["side_page_cache"]
    assert 0 < cache.bytes <= 1 << 20
    assert 1 <= len(cache._entries) <= 2 < len(targets)


def test_a_page_is_kept_once_and_weighed_in_bytes():
    cache = PageCache(size=10, max_bytes=1000)
    pages = {name: CachedPage(name * 400, 0, name, time.time()) for name in "abc"}
    for name, page in pages.items():
        cache.put((name,), page)
    assert pages["a"].weight == 400 and pages["a"].body == b"a" * 400
    assert not [
        v for v in vars(pages["a"]).values() if isinstance(v, str) and len(v) > 9
    ]
    # "a", the least recently used, made way for "c".
    assert cache.get(("a",), time.time()) is None
    assert cache.bytes == 800
    cache.put(("b",), CachedPage("b" * 100, 0, "b", time.time()))  # replaced
    assert cache.bytes == 500
    cache.put(("d",), CachedPage("d" * 5000, 0, "d", time.time()))
    assert cache.bytes == 5000  # over the bytes alone: kept until the next


@pytest.mark.app_config(
    PAGE_CACHE_SIZE=2, SIDE_PAGE_CACHE_SIZE=2, COMMENTS_PER_PAGE=2, POSTS_PER_PAGE=1
)
def test_walking_later_comment_and_home_pages_leaves_the_first_ones_cached(
    app, count_queries
):
    for url in (POST_URL, "/"):
        app.test_client().get(url)
    later = [f"{POST_URL}comment-page-{n}/" for n in range(2, 5)]
    later += [f"/?page={n}" for n in (2, 3)]
    for url in later:
        assert app.test_client().get(url).status_code == 200, url
    for url in (POST_URL, "/"):
        with count_queries() as counter:
            app.test_client().get(url)
        assert counter.statements == [VERSION_SQL], url


@pytest.mark.parametrize(
    "query", ["utm_source=newsletter", "page=abc", "page=1&page=2"]
)
def test_a_home_page_query_that_names_no_other_page_is_the_shared_copy(
    app, count_queries, query
):
    plain = app.test_client().get("/")
    with count_queries() as counter:
        tagged = app.test_client().get(f"/?{query}")
    assert counter.statements == [VERSION_SQL]
    assert tagged.get_data() == plain.get_data()


def test_every_argument_the_home_page_view_reads_reaches_flask():
    # The middleware cannot import the posts package (it sits below it), so it
    # keeps its own list: this keeps the two from drifting apart.
    read_by_the_view = {*ID_QUERIES, *SLUG_QUERIES, "feed", "s", "paged", "m"}
    assert read_by_the_view <= set(_FLASKS_HOME_ARGS)


def test_the_pages_the_middleware_knows_by_name_and_shape_are_the_apps(app):
    # It knows the posts' and feeds' addresses without importing them: a
    # renamed view or a changed address must fail here, not leave pages uncached.
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert pagecache_wsgi._KEPT_MISSING_ENDPOINTS <= endpoints
    with app.test_request_context():
        for cpage in (None, 2, 999999):
            path = url_for("posts.detail", slug="un-articolo", cpage=cpage)
            assert pagecache_wsgi._POST_PATH.fullmatch(path), path
        for endpoint, args in (
            ("feeds.posts_rss", {}),
            ("feeds.posts_atom", {}),
            ("feeds.comments_rss", {}),
            ("feeds.post_responses", {"slug": "un-articolo"}),
        ):
            path = url_for(endpoint, **args)
            assert pagecache_wsgi._FEED_PATH.fullmatch(path), path


@pytest.mark.parametrize("query", ["s=community", "p=999999", "page=1&s=community"])
def test_other_home_page_queries_still_reach_flask(app, count_queries, query):
    for _ in range(2):
        app.test_client().get("/")  # the shared copy is there
    with count_queries() as counter:
        response = app.test_client().get(f"/?{query}")
    assert counter.statements != [VERSION_SQL]
    assert response.status_code in (200, 404)
    assert app.test_client().get("/?x=%00").status_code == 400


def test_a_home_page_past_the_last_is_missing_every_time(app, client):
    assert [client.get("/?page=50").status_code for _ in range(3)] == [404] * 3
    assert client.get("/?page=1").get_data() == client.get("/").get_data()


@pytest.mark.app_config(POSTS_PER_PAGE=1)
def test_each_home_page_is_its_own_copy(app, count_queries):
    first = app.test_client().get("/")  # fills page 1
    flask_second = app.test_client().get("/?page=2")
    with count_queries() as counter:
        second = app.test_client().get("/?page=2")
    assert counter.statements == [VERSION_SQL]
    assert second.get_data() == flask_second.get_data() != first.get_data()
    assert [app.test_client().get("/?page=99").status_code for _ in "ab"] == [404] * 2


def test_a_home_page_the_author_filled_is_the_anonymous_one(app):
    author = app.test_client()
    sign_in_author(author)
    filled = author.get("/")
    hit = app.test_client().get("/")
    assert hit.get_data() == filled.get_data()
    assert "Set-Cookie" not in hit.headers and "Vary" not in hit.headers


def _code_digest_of(package_parent) -> str:
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from blog.pagecache.cache import _code_digest; print(_code_digest())"
    )
    run = subprocess.run(
        [sys.executable, "-c", program, str(package_parent)],
        capture_output=True,
        text=True,
        check=True,
        cwd=package_parent,
    )
    return run.stdout.strip()


def test_a_deploy_that_changes_only_python_code_is_a_new_release(
    tmp_path, app, make_app, monkeypatch
):
    # Feeds are made in Python, no template: their ETag must follow the code.
    shutil.copytree(
        Path(blog.__file__).parent,
        tmp_path / "blog",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    before = _code_digest_of(tmp_path)
    builders = tmp_path / "blog" / "feeds" / "builders.py"
    builders.write_text(builders.read_text() + "\n# a change in how feeds are made\n")
    assert _code_digest_of(tmp_path) != before
    release = site_release(app)
    monkeypatch.setattr(pagecache_cache, "_code_digest", lambda: "new code")
    redeployed = make_app(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    assert site_release(redeployed) != release
    with redeployed.app_context():
        db.engine.dispose()


def test_a_deploy_that_changes_only_a_stylesheet_gives_it_a_new_address(
    tmp_path, client
):
    # nginx lets browsers keep static files for days: the address must change.
    shutil.copytree(
        Path(blog.__file__).parent,
        tmp_path / "blog",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    before = _code_digest_of(tmp_path)
    css = tmp_path / "blog" / "static" / "css" / "blog.css"
    css.write_text(css.read_text() + "\n/* a new rule */\n")
    assert _code_digest_of(tmp_path) != before
    page = soup(client.get("/"))
    sheets = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert sheets and all("?v=" in href for href in sheets)


def test_a_copy_from_before_a_deploy_is_not_confirmed_after_it(app, make_app):
    etag = app.test_client().get("/").headers["ETag"]
    redeployed = make_app(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], POSTS_PER_PAGE=1
    )
    again = redeployed.test_client().get("/", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    with redeployed.app_context():
        db.engine.dispose()


def test_a_returning_visitor_keeps_the_session_the_page_gave(app):
    client = app.test_client()
    client.get(POST_URL)
    again = client.get(POST_URL)
    assert "Set-Cookie" not in again.headers  # the session already holds a token
    assert (
        send_comment(client, app, "Con il token della copia in cache.").status_code
        == 302
    )


def test_the_session_cookie_of_a_hit_has_flasks_attributes(database_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": True,
            "SESSION_COOKIE_SAMESITE": "Strict",
            "SESSION_COOKIE_PATH": "/",
        }
    )
    with app.app_context():
        db.create_all()
        load_seed()
        db.session.commit()
    try:
        from_flask = app.test_client().get(POST_URL).headers["Set-Cookie"]
        from_cache = app.test_client().get(POST_URL).headers["Set-Cookie"]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert from_flask.split(";")[1:] == from_cache.split(";")[1:]
    assert "Secure" in from_cache and "SameSite=Strict" in from_cache


def test_the_version_read_leaves_no_lock_behind(app, db_backend, count_queries):
    client = app.test_client()
    client.get(POST_URL)
    with count_queries() as counter:
        assert client.get(POST_URL).status_code == 200
    assert counter.statements == [VERSION_SQL]  # answered before Flask
    with app.app_context():
        url = db.engine.url
    if db_backend == "sqlite":
        # A full checkpoint (as a backup runs) finds no reader holding the log.
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            other.execute("UPDATE setting SET value = value WHERE key = 'x'")
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            other.close()
        assert busy == 0
    else:  # another session takes the strongest lock at once, without waiting
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(
                text("LOCK TABLE setting IN ACCESS EXCLUSIVE MODE NOWAIT")
            )
            held = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE granted"
                    " AND mode = 'AccessExclusiveLock'"
                    " AND relation = 'setting'::regclass"
                )
            )
        engine.dispose()
        assert held == 1


def _version_backends(app) -> int:
    """Server processes connected to the app's database, other than this one."""
    with app.app_context():
        return db.session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()


@pytest.mark.backends("postgresql")
def test_version_connections_close_with_the_engine(app):
    client = app.test_client()
    client.get(POST_URL)
    client.get(POST_URL)  # a hit: the version connection is open
    with app.app_context():
        db.engine.dispose()
    assert _version_backends(app) == 0


@pytest.mark.backends("postgresql")
def test_a_lost_version_connection_is_reported_then_replaced(app):
    with app.app_context():
        engine = create_engine(db.engine.url, poolclass=NullPool)
        version = content_version()
    reader = ContentVersionReader(engine)
    assert reader.read() == version
    with app.app_context():  # as when the server restarts
        db.session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        db.session.commit()
    assert reader.read() is None  # the middleware lets Flask answer this one
    assert reader.read() == version  # and the next one finds a new connection
    engine.dispose()


def test_a_forged_or_expired_session_gets_a_new_one_from_flask(app, count_queries):
    client = app.test_client()
    client.get(POST_URL)  # fills the cache
    client.set_cookie("session", "eyJjc3JmX3Rva2VuIjoiYWJjIn0.Zm9v.c2lnbmF0dXJl")
    with count_queries() as counter:
        response = client.get(POST_URL)
    assert response.status_code == 200
    assert counter.statements != [VERSION_SQL]  # Flask answered, not the cache
    assert "session=" in response.headers["Set-Cookie"]
    assert send_comment(client, app, "Con una sessione nuova.").status_code == 302


def _open_connections(url, db_backend, app) -> int:
    """Connections open to the test database, other than the asking one."""
    if db_backend == "postgresql":
        return _version_backends(app)
    target = os.path.realpath(url.database)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.path.realpath(f"/proc/self/fd/{fd}") == target
        except OSError:
            continue
    return count


def _reader_of_its_own(app, db_backend):
    """A version reader on an engine of its own, the version it should read and
    the connections open before it reads."""
    with app.app_context():
        url = db.engine.url
        version = content_version()
    engine = create_engine(url, poolclass=NullPool)
    before = _open_connections(url, db_backend, app)
    return ContentVersionReader(engine), version, before


def test_threads_one_after_another_share_one_version_connection(app, db_backend):
    reader, version, before = _reader_of_its_own(app, db_backend)
    url, engine = reader.engine.url, reader.engine
    results = []
    for _ in range(30):  # as ``flask run`` does: a new thread per connection
        thread = threading.Thread(target=lambda: results.append(reader.read()))
        thread.start()
        thread.join()
    gc.collect()
    assert results == [version] * 30
    assert _open_connections(url, db_backend, app) <= before + 1
    engine.dispose()


def test_many_threads_at_once_keep_a_few_version_connections(app, db_backend):
    # gunicorn's threaded workers: 32 threads, each may serve a cache hit.
    reader, version, before = _reader_of_its_own(app, db_backend)
    url, engine = reader.engine.url, reader.engine
    threads = 32
    all_read = threading.Barrier(threads + 1)
    counted = threading.Event()
    results = []

    def serve() -> None:
        for _ in range(20):
            results.append(reader.read())
        all_read.wait()  # every thread still alive while the test counts
        counted.wait()

    workers = [threading.Thread(target=serve) for _ in range(threads)]
    for worker in workers:
        worker.start()
    all_read.wait()
    try:
        opened = _open_connections(url, db_backend, app) - before
    finally:
        counted.set()
        for worker in workers:
            worker.join()
    assert results == [version] * threads * 20
    assert 1 <= opened <= KEPT_CONNECTIONS
    engine.dispose()


def test_a_forked_worker_reads_on_its_own_connection(app):
    with app.app_context():
        url = db.engine.url
        version = content_version()
    engine = create_engine(url, poolclass=NullPool)
    reader = ContentVersionReader(engine)
    assert reader.read() == version
    parents = list(reader._free)
    child = os.fork()
    if child == 0:  # gunicorn's worker, forked from a master that has read
        try:
            ok = reader.read() == version
            # It read on a connection of its own, kept for its next reads.
            ok = ok and len(reader._free) == 1 and reader._free[0] is not parents[0]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert reader.read() == version  # the parent's connection still works
    assert reader._free == parents
    engine.dispose()


def test_a_read_finding_every_connection_lent_lets_flask_answer(app, monkeypatch):
    with app.app_context():
        engine = create_engine(db.engine.url, poolclass=NullPool)
    reader = ContentVersionReader(engine)
    lent = [reader._borrow() for _ in range(KEPT_CONNECTIONS)]  # all hang, say
    monkeypatch.setattr("blog.pagecache.versionread.BORROW_TIMEOUT", 0.05)
    answers: list[str | None] = []
    waiting = threading.Thread(
        target=lambda: answers.append(reader.read()), daemon=True
    )
    waiting.start()
    waiting.join(timeout=30)
    assert answers == [None]  # the middleware lets Flask answer this one
    for connection, generation in lent:
        reader._give_back(connection, generation)
    assert reader.read() is not None
    engine.dispose()


def test_an_in_memory_database_keeps_its_one_connection():
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret-key", "DATABASE_URL": "sqlite://"}
    )
    with app.app_context():
        db.create_all()
        load_seed()
        db.session.commit()
    client = app.test_client()
    first, second = client.get(POST_URL), client.get(POST_URL)
    assert first.status_code == second.status_code == 200
    assert soup(second).select_one("#comments h2").get_text() == "12 Responses"
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", [POST_URL, "/"])
@pytest.mark.parametrize("prefix", ["//evil.example", "/altro"])
def test_a_chosen_script_name_never_reaches_another_reader(app, prefix, path):
    attacker = app.test_client()
    for _ in range(3):  # once to fill the cache, then as hits would be
        poisoned = attacker.get(path, environ_overrides={"SCRIPT_NAME": prefix})
        assert poisoned.status_code == 200
        # The attacker sees their own prefix: Flask rendered it for them alone.
        assert prefix + "/" in poisoned.get_data(as_text=True)
        assert poisoned.headers.get("ETag") is None
    for _ in range(2):  # a miss that fills the cache, then a hit
        html = app.test_client().get(path).get_data(as_text=True)
        assert prefix + "/" not in html
        assert '"/chi-e-e-chi-non-e-il-community-manager/' in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "a=1&a=2",
        "page=2&s=",
        "%73=community",  # "s", percent-encoded
        "+s+=1",
        "replytocom=1;x=2",
        "a=%ff",
        "a=%",
        "a=%zz&b",
        "page=%EF%BC%92",  # a full-width digit
        "page=%202",
        "=x&&&",
        "utm_source=a+b%20c",
    ],
)
def test_the_middleware_reads_a_query_as_flask_does(query):
    # The middleware decides from the query's arguments which page a request
    # asks for: it must see the very arguments Flask's request.args will.
    environ = EnvironBuilder(path="/", query_string=query).get_environ()
    flask_sees = Request(environ).args
    assert _query_args(environ["QUERY_STRING"]) == {
        name: flask_sees.get(name) for name in flask_sees
    }
