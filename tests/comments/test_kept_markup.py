"""A response's markup is kept per worker for the pages made for one reader
(their own held comment, the author's links): each reader still sees what is
theirs, and any change shows at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from helpers_comments import (
    POST_URL,
    newest_comment,
    send_comment,
    sign_in_author,
    soup,
)
from sqlalchemy import update

from blog.comments import page as page_module
from blog.core import memo
from blog.core.settings import current_settings, save_settings
from blog.extensions import db
from blog.models import Comment, Post, utcnow

pytestmark = pytest.mark.app_config(COMMENT_HOLD_ALL=False, COMMENT_FLOOD_SECONDS=0)


def writer(app, client, text: str = "Il mio commento") -> int:
    """Send a comment from ``client``: its own page is made for it alone."""
    assert send_comment(client, app, text).status_code == 302
    with app.app_context():
        return newest_comment().id


def item(client, comment_id: int):
    found = soup(client.get(POST_URL)).select_one(f"#comment-{comment_id}")
    assert found is not None
    return found


def test_the_owner_links_go_when_the_window_closes(app, client, monkeypatch):
    comment_id = writer(app, client)
    links = item(client, comment_id).select(".comment-owner-links a")
    assert [a.get_text() for a in links] == ["Modifica", "Elimina"]
    # Nothing stored changes: only the time does.
    later = utcnow() + timedelta(seconds=901)
    monkeypatch.setattr(page_module, "utcnow", lambda: later)
    assert item(client, comment_id).select(".comment-owner-links") == []


def test_the_author_s_links_never_reach_a_reader(app, client):
    comment_id = writer(app, client)
    # Another writer: a page made for them alone, showing the same comment.
    other = app.test_client()
    writer(app, other, "Un altro commento")
    author = app.test_client()
    sign_in_author(author)
    assert item(author, comment_id).select(".comment-moderation-links a")
    assert item(other, comment_id).select(".comment-moderation-links") == []


def test_a_change_made_around_the_orm_shows_at_once(app, client):
    comment_id = writer(app, client)
    assert "Il mio commento" in item(client, comment_id).get_text()
    with app.app_context():
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(content_html="<p>Testo corretto</p>")
        )
        db.session.commit()
    assert "Testo corretto" in item(client, comment_id).get_text()


def test_the_avatar_setting_shows_at_once(app, client):
    comment_id = writer(app, client)
    assert item(client, comment_id).select("img.avatar")
    with app.app_context():
        settings = current_settings()
        save_settings(replace(settings, avatars="none"))
        db.session.commit()
    assert item(client, comment_id).select("img.avatar") == []


def test_a_response_is_rendered_once_while_it_stays_the_same(app, client, monkeypatch):
    writer(app, client)
    kept: list = []
    keep = memo.KeptMarkup.keep

    def counted(self, key, markup):
        kept.append(key)
        keep(self, key, markup)

    monkeypatch.setattr(memo.KeptMarkup, "keep", counted)
    first = soup(client.get(POST_URL))
    # The others were kept when the page was made for the shared cache.
    assert len(kept) == 1
    assert len(first.select("#comments li")) > 1
    for _ in range(2):
        client.get(POST_URL)
    assert len(kept) == 1, "later views render no response again"


def test_closing_the_post_takes_the_reply_links_off_a_writer_s_page(app, client):
    comment_id = writer(app, client)
    assert soup(client.get(POST_URL)).select("a.comment-reply-link")
    with app.app_context():
        db.session.execute(update(Post).values(comment_status="closed"))
        db.session.commit()
    page = soup(client.get(POST_URL))
    assert page.select("a.comment-reply-link") == []
    assert page.select_one(f"#comment-{comment_id}") is not None


def test_a_page_s_root_never_reaches_another_page(app, client):
    comment_id = writer(app, client)
    # No reply links: the root reaches a response only through its addresses.
    with app.app_context():
        db.session.execute(update(Post).values(comment_status="closed"))
        db.session.commit()
    rooted = client.get(POST_URL, environ_overrides={"SCRIPT_NAME": "/altrove"})
    assert "/altrove/avatar/" in rooted.get_data(as_text=True)
    html = client.get(POST_URL).get_data(as_text=True)
    assert "/altrove/" not in html
    assert f'href="/comment/{comment_id}/edit"' in html
