"""Threads, replies without JavaScript, comment pages, permalinks, avatars."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers_admin import add_comment
from helpers_comments import (
    POST_URL,
    newest_comment,
    send_comment,
    set_status,
    soup,
    sqlite_plan,
    stage_comment,
    statements_during,
    the_post,
)

from blog.comments.avatars import avatar_key
from blog.comments.threads import is_visible, page_of
from blog.core.settings import CommentSettings, save_settings
from blog.extensions import db
from blog.models import Comment, Post, utcnow

STATIC_JS = Path(__file__).parents[2] / "blog" / "static" / "js"
THREADS_BY_INDEX = (
    "ix_comment_post_status_parent_created (post_id=? AND status=? AND parent_id=?)"
)


def items(page) -> list[str]:
    """The ids of the top-level list items, in order."""
    return [li["id"] for li in page.select("ol.commentlist > li")]


class TestReplyWithoutJavaScript:
    def test_every_comment_has_a_nofollow_reply_link(self, client):
        page = soup(client.get(POST_URL))
        comments = page.select("ol.commentlist > li.comment")
        assert len(comments) == 10
        for item in comments:
            link = item.select_one(".comment-reply-link")
            comment_id = item["id"].removeprefix("comment-")
            assert link.get_text() == "Rispondi"
            assert link["rel"] == ["nofollow"]
            assert link["href"] == f"{POST_URL}?replytocom={comment_id}#respond"
        assert page.select("li.pingback .comment-reply-link") == []
        assert page.select_one('meta[name="robots"]') is None

    def test_the_reply_view_is_noindex_and_names_the_comment(self, client):
        page = soup(client.get(f"{POST_URL}?replytocom=1"))
        assert page.select_one('meta[name="robots"]')["content"] == "noindex"
        respond = page.select_one("#respond")
        assert respond.h2.get_text() == "Rispondi a Brunella"
        cancel = respond.select_one("#cancel-comment-reply-link")
        assert cancel.get_text() == "Annulla risposta"
        assert cancel["href"] == f"{POST_URL}#respond"
        assert not cancel.parent.has_attr("hidden")
        assert respond.select_one("#comment_parent")["value"] == "1"

    def test_the_plain_page_hides_the_cancel_link(self, client):
        respond = soup(client.get(POST_URL)).select_one("#respond")
        assert respond.h2.get_text() == "Lascia un Commento"
        assert respond.select_one("#cancel-comment-reply-link").parent.has_attr(
            "hidden"
        )
        assert respond.select_one("#comment_parent")["value"] == "0"

    def test_every_copy_of_a_page_names_its_one_canonical_address(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        site = app.config["SITE_URL"].rstrip("/")
        for path, canonical in (
            (POST_URL, POST_URL),
            (f"{POST_URL}?replytocom=1", POST_URL),
            (f"{POST_URL}?utm_source=x", POST_URL),
            (f"{POST_URL}comment-page-2/", f"{POST_URL}comment-page-2/"),
            (f"{POST_URL}comment-page-2/?replytocom=7", f"{POST_URL}comment-page-2/"),
        ):
            link = soup(client.get(path)).select('link[rel="canonical"]')
            assert [tag["href"] for tag in link] == [site + canonical], path

    def test_the_canonical_address_ignores_the_requests_host(self, app, client):
        page = soup(client.get(POST_URL, headers={"Host": "evil.example"}))
        canonical = page.select_one('link[rel="canonical"]')["href"]
        assert canonical == app.config["SITE_URL"].rstrip("/") + POST_URL

    @pytest.mark.parametrize("target", ["999", "abc", "11", "²", "9" * 5000, "-1"])
    def test_an_unusable_reply_target_gives_the_plain_form(self, client, target):
        # 11 is a pingback: it takes no replies.
        page = soup(client.get(f"{POST_URL}?replytocom={target}"))
        assert page.select_one("#respond h2").get_text() == "Lascia un Commento"
        assert page.select_one("#comment_parent")["value"] == "0"

    def test_a_reply_is_stored_in_the_thread_and_nested(self, app, client):
        response = send_comment(
            client, app, "Sono d'accordo", page_url=f"{POST_URL}?replytocom=1"
        )
        assert response.status_code == 302
        with app.app_context():
            reply = newest_comment()
            assert (reply.parent_id, reply.thread_id, reply.depth) == (1, 1, 2)
        set_status(app, reply.id, "approved")
        page = soup(app.test_client().get(POST_URL))
        nested = page.select_one("#comment-1 > ol.children > li")
        assert nested["id"] == f"comment-{reply.id}"
        assert "depth-2" in nested["class"]
        assert len(items(page)) == 12
        assert page.select_one("#comments h2").get_text() == "13 Responses"

    def test_a_reply_to_a_held_comment_is_refused(self, app, client):
        with app.app_context():
            held = stage_comment(the_post(), status="pending").id
            db.session.commit()
        response = send_comment(client, app, "risposta", comment_parent=str(held))
        assert response.status_code == 422
        page = soup(response)
        assert page.select_one(".form-error").get_text() == (
            "Il commento a cui vuoi rispondere non esiste o non è ancora stato "
            "approvato."
        )
        assert page.select_one("#comment").get_text().strip() == "risposta"

    def test_a_reply_to_a_pingback_is_refused(self, client, app):
        # Item 11 of the original post is a pingback: it takes no replies.
        response = send_comment(client, app, "risposta", comment_parent="11")
        assert response.status_code == 422
        assert soup(response).select_one("#comment").get_text().strip() == "risposta"

    def test_a_reply_to_another_posts_comment_is_refused(self, app, client):
        with app.app_context():
            other = db.session.query(Post).filter(Post.id != the_post().id).first()
            foreign = stage_comment(other).id
            db.session.commit()
        response = send_comment(client, app, "risposta", comment_parent=str(foreign))
        assert response.status_code == 422
        assert soup(response).select_one(".form-error").get_text() == (
            "Il commento a cui vuoi rispondere appartiene a un altro articolo."
        )


class TestDepth:
    def chain(self, app, length: int) -> list[int]:
        with app.app_context():
            post, parent, ids = the_post(), None, []
            for _ in range(length):
                parent = stage_comment(post, parent)
                ids.append(parent.id)
            db.session.commit()
        return ids

    def test_no_reply_link_at_the_deepest_level(self, app, client):
        app.config["COMMENT_THREAD_DEPTH"] = 3
        ids = self.chain(app, 3)
        page = soup(client.get(POST_URL))
        for depth, comment_id in enumerate(ids, 1):
            item = page.select_one(f"#comment-{comment_id}")
            assert f"depth-{depth}" in item["class"]
            link = item.select_one(":scope > article .comment-reply-link")
            assert (link is None) == (depth == 3)

    def test_an_imported_chain_of_hundreds_shows_ten_deep(self, app, client):
        # Only an import stores such a chain (a WordPress export may hold one):
        # replies past the tenth level line up there, as WordPress shows them,
        # and the page, whose templates recurse once per level, is served.
        ids = self.chain(app, 300)
        response = client.get(POST_URL)
        assert response.status_code == 200
        page = soup(response)
        for comment_id in ids:
            assert page.select_one(f"#comment-{comment_id}") is not None
        deepest = page.select_one(f"#comment-{ids[-1]}")
        assert "depth-10" in deepest["class"]
        assert len(deepest.find_parents("ol", class_="children")) == 9

    def test_a_reply_past_the_depth_is_refused(self, app, client):
        app.config["COMMENT_THREAD_DEPTH"] = 3
        deepest = self.chain(app, 3)[-1]
        response = send_comment(client, app, "troppo", comment_parent=str(deepest))
        assert response.status_code == 422
        assert "profondità massima" in soup(response).select_one(".form-error").text

    def test_default_depth_is_five(self, app, client):
        ids = self.chain(app, 5)
        page = soup(client.get(POST_URL))
        assert page.select_one(f"#comment-{ids[3]} .comment-reply-link")
        deepest = page.select_one(f"#comment-{ids[4]}")
        assert deepest.select_one(".comment-reply-link") is None

    def test_threading_off_means_no_reply_links_and_no_script(self, app, client):
        app.config["COMMENT_THREAD_DEPTH"] = 1
        page = soup(client.get(POST_URL))
        assert page.select(".comment-reply-link") == []
        assert page.select("script") == []


class TestPages:
    def test_threads_are_paginated_with_numbering_that_continues(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        first = soup(client.get(POST_URL))
        assert len(items(first)) == 5
        assert not first.select_one("ol.commentlist").has_attr("start")
        nav = first.select_one(".comment-navigation")
        assert nav.select_one("a[rel=prev]") is None
        assert (
            nav.select_one("a[rel=next]")["href"]
            == f"{POST_URL}comment-page-2/#comments"
        )
        second = soup(client.get(f"{POST_URL}comment-page-2/"))
        assert second.select_one("ol.commentlist")["start"] == "6"
        assert second.select_one(".comment-navigation a[rel=prev]")["href"] == (
            f"{POST_URL}#comments"
        )
        third = soup(client.get(f"{POST_URL}comment-page-3/"))
        assert third.select_one("ol.commentlist")["start"] == "11"
        assert len(items(third)) == 2
        assert third.select_one(".comment-navigation a[rel=next]") is None
        seen = items(first) + items(second) + items(third)
        assert seen == [f"comment-{n}" for n in range(1, 13)]
        # Every page still counts all the responses.
        assert third.select_one("#comments h2").get_text() == "12 Responses"
        assert client.get(f"{POST_URL}comment-page-4/").status_code == 404

    def test_replies_follow_their_thread_to_its_page(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        with app.app_context():
            reply = stage_comment(the_post(), db.session.get(Comment, 7))
            reply.created_at = utcnow()
            db.session.commit()
            reply_id = reply.id
        second = soup(client.get(f"{POST_URL}comment-page-2/"))
        assert second.select_one(f"#comment-7 > ol.children > #comment-{reply_id}")
        reply_link = second.select_one("#comment-7 .comment-reply-link")["href"]
        assert reply_link == f"{POST_URL}comment-page-2/?replytocom=7#respond"

    def test_a_reply_sent_back_shows_the_page_of_its_comment(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        response = send_comment(
            client,
            app,
            "Risposta con un errore",
            page_url=f"{POST_URL}comment-page-2/?replytocom=7",
            email="non-una-email",
        )
        assert response.status_code == 422
        page = soup(response)
        assert page.select_one("#comment-7 .comment-body") is not None
        assert page.select_one("ol.commentlist")["start"] == "6"
        assert (
            page.select_one("#reply-title").get_text()
            == "Rispondi a "
            + (page.select_one("#comment-7 .comment-reply-link")["data-reply-to"])
        )

    def test_a_refused_reply_is_still_a_reply(self, app, client):
        send_comment(client, app, "Stesso testo", page_url=f"{POST_URL}?replytocom=1")
        with app.app_context():
            db.session.query(Comment).update(
                {Comment.created_at: utcnow() - timedelta(minutes=5)}
            )
            db.session.commit()
        other = app.test_client()
        response = send_comment(
            other,
            app,
            "Stesso testo",
            page_url=f"{POST_URL}?replytocom=1",
            email="altra@example.org",
        )
        assert response.status_code == 409
        page = soup(response)
        assert page.select_one("#reply-title").get_text().startswith("Rispondi a ")
        assert not page.select_one(".cancel-reply").has_attr("hidden")
        assert page.select_one("#comment_parent")["value"] == "1"

    def test_newest_first_order(self, app, client):
        app.config["COMMENT_ORDER"] = "newest"
        app.config["COMMENTS_PER_PAGE"] = 5
        first = soup(client.get(POST_URL))
        assert items(first) == [f"comment-{n}" for n in (12, 11, 10, 9, 8)]
        # The next page holds older threads, and says so.
        link = first.select_one(".comment-navigation a[rel=next]")
        assert link.get_text() == "Commenti meno recenti →"
        second = soup(client.get(link["href"]))
        back = second.select_one(".comment-navigation a[rel=prev]")
        assert back.get_text() == "← Commenti più recenti"

    @pytest.mark.parametrize("cpage", ["abc", "²", "0", "9" * 5000])
    def test_a_nonsense_comment_page_means_the_first(self, client, cpage):
        page = soup(client.get(f"{POST_URL}?cpage={cpage}", follow_redirects=True))
        assert items(page)[0] == "comment-1"

    def test_one_page_needs_no_navigation(self, client):
        assert soup(client.get(POST_URL)).select_one(".comment-navigation") is None


class TestPermalinks:
    def test_a_comment_link_opens_the_page_that_shows_it(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        response = client.get("/comment/12/")
        assert response.status_code == 302
        assert response.headers["Location"] == f"{POST_URL}comment-page-3/#comment-12"
        assert client.get("/comment/3/").headers["Location"] == (
            f"{POST_URL}#comment-3"
        )

    def test_a_reply_link_opens_its_threads_page(self, app, client):
        app.config["COMMENTS_PER_PAGE"] = 5
        with app.app_context():
            reply = stage_comment(the_post(), db.session.get(Comment, 9)).id
            db.session.commit()
        assert client.get(f"/comment/{reply}/").headers["Location"] == (
            f"{POST_URL}comment-page-2/#comment-{reply}"
        )

    def test_a_reply_under_a_comment_withdrawn_since_has_no_page(self, app, client):
        # Its page does not show it (a reply under a hidden comment is hidden):
        # no link leads there as if it did.
        with app.app_context():
            reply = stage_comment(the_post(), db.session.get(Comment, 9)).id
            db.session.get(Comment, 9).status = "spam"
            db.session.commit()
        assert client.get(f"/comment/{reply}/").status_code == 404

    def test_the_threads_before_a_comment_are_counted_once_per_version(
        self, app, client
    ):
        # Every new comment's writer follows its permalink, and anyone may
        # follow any: the approved threads before it are counted once per
        # change readers can see, not on each request.
        app.config["COMMENTS_PER_PAGE"] = 1
        first = client.get("/comment/12/").headers["Location"]
        counts = statements_during(
            app, lambda sql: "count(" in sql.lower(), lambda: client.get("/comment/12/")
        )
        assert counts == []
        with app.app_context():
            stage_comment(the_post(), created_at=datetime(2001, 1, 1))
            db.session.commit()
        page = int(re.search(r"comment-page-(\d+)/", first).group(1))
        assert client.get("/comment/12/").headers["Location"] == (
            f"{POST_URL}comment-page-{page + 1}/#comment-12"
        )

    def test_a_count_from_a_stale_read_is_not_kept_for_others(self, app):
        # As for a post's neighbours: the comment read before the version may
        # have moved since (a ping's date follows its source).
        app.config["COMMENTS_PER_PAGE"] = 1
        settings = CommentSettings(comments_per_page=1)
        with app.test_request_context():
            comment = db.session.get(Comment, 12)
            with app.app_context():
                db.session.get(Comment, 12).created_at = datetime(2001, 1, 1)
                db.session.commit()
            page_of(comment, settings, "")
        with app.test_request_context():
            assert page_of(db.session.get(Comment, 12), settings, "") == 1

    def test_a_writers_own_permalink_counts_only_their_held_ones_again(
        self, app, client
    ):
        assert send_comment(client, app, "il mio commento").status_code == 302
        with app.app_context():
            mine = newest_comment().id
        client.get(f"/comment/{mine}/")
        counts = statements_during(
            app,
            lambda sql: "count(" in sql.lower(),
            lambda: client.get(f"/comment/{mine}/"),
        )
        assert len(counts) == 1
        assert "approved" not in str(counts[0][1])
        assert client.get(f"/comment/{mine}/").headers["Location"] == (
            f"{POST_URL}#comment-{mine}"
        )

    def test_hidden_and_unknown_comments_are_404(self, app, client):
        with app.app_context():
            held = stage_comment(the_post(), status="pending").id
            spam = stage_comment(the_post(), status="spam").id
            db.session.commit()
        for comment_id in (held, spam, 999):
            assert client.get(f"/comment/{comment_id}/").status_code == 404


def test_the_page_uses_the_same_queries_for_12_or_1000_comments(
    app, client, count_queries
):
    with count_queries() as few:
        assert client.get(POST_URL).status_code == 200
    with app.app_context():
        post, parent = the_post(), None
        start = utcnow() - timedelta(days=1)
        for number in range(1000):
            # Every fourth comment answers the one before it: threads of depth
            # up to 4 next to flat ones.
            reply_to = parent if number % 4 else None
            parent = stage_comment(post, reply_to, created_at=start)
            start += timedelta(seconds=1)
        db.session.commit()
    with count_queries() as many:
        page = soup(client.get(POST_URL))
    assert few.count == many.count
    assert page.select_one("#comments h2").get_text() == "1012 Responses"
    assert len(items(page)) == 50
    assert page.select("ol.children")


class TestPagesNobodyCaches:
    """A writer with a held comment, or with saved details, gets a page made for
    them on every view, and anyone may ask for any comment page: those pages
    read their rows by index, not by walking the post's every response (at
    100,000 responses, 55 to 110 ms a page before)."""

    @staticmethod
    def writer_with_a_held_reply(app, client) -> int:
        response = send_comment(client, app, "la mia risposta", comment_parent="1")
        assert response.status_code == 302
        with app.app_context():
            return newest_comment().id

    @staticmethod
    def threads_plan(app, client) -> str:
        """SQLite's plan for the statement reading the page's threads."""
        [(statement, parameters)] = statements_during(
            app,
            lambda sql: "parent_id IS NULL" in sql and "LIMIT" in sql,
            lambda: client.get(POST_URL),
        )
        return sqlite_plan(app, statement, parameters)

    @pytest.mark.parametrize("order", ["oldest", "newest"])
    def test_a_page_of_threads_is_read_in_order_from_the_index(
        self, app, client, order
    ):
        with app.app_context():
            save_settings(CommentSettings(comment_order=order))
            db.session.commit()
        plan = self.threads_plan(app, client)
        assert THREADS_BY_INDEX in plan
        assert "TEMP B-TREE" not in plan

    def test_a_writer_without_a_held_thread_here_reads_the_threads_as_anyone(
        self, app, client
    ):
        # The writer's cookie follows them to every post; where they hold no
        # held thread, the threads come by the index, as anyone's do.
        self.writer_with_a_held_reply(app, client)
        assert THREADS_BY_INDEX in self.threads_plan(app, client)

    def test_a_writers_held_thread_is_still_shown_to_them_alone(self, app, client):
        assert send_comment(client, app, "il mio, in attesa").status_code == 302
        with app.app_context():
            mine = newest_comment().id
        assert soup(client.get(POST_URL)).select_one(f"#comment-{mine}")
        assert not soup(app.test_client().get(POST_URL)).select_one(f"#comment-{mine}")

    def test_the_replies_and_the_writers_held_ones_are_read_by_index(self, app, client):
        reply_id = self.writer_with_a_held_reply(app, client)
        seen = statements_during(
            app, lambda sql: "thread_id IN" in sql, lambda: client.get(POST_URL)
        )
        [(statement, parameters)] = seen
        plan = sqlite_plan(app, statement, parameters)
        assert "ix_comment_thread_status (thread_id=? AND status=?)" in plan
        assert "ix_comment_post_created" not in plan
        assert "SCAN comment" not in plan
        # What the statement is for: the writer still sees their held reply.
        page = soup(client.get(POST_URL))
        assert page.select_one(f"#comment-1 #comment-{reply_id}")

    def test_the_post_is_counted_once_per_change_readers_can_see(self, app, client):
        self.writer_with_a_held_reply(app, client)
        assert "12 Responses" in client.get(POST_URL).get_data(as_text=True)
        counts = statements_during(
            app,
            lambda sql: "count(" in sql.lower(),
            lambda: client.get(POST_URL),
        )
        # Only the writer's own held responses are counted again.
        assert len(counts) == 1
        assert "approved" not in str(counts[0][1])
        with app.app_context():
            other = stage_comment(the_post(), status="pending").id
            db.session.commit()
        set_status(app, other, "approved")
        page = soup(client.get(POST_URL))
        assert page.select_one("#comments h2").get_text() == "13 Responses"
        assert page.select_one(f"#comment-{other}")


class TestAvatars:
    def test_avatars_are_local_identicons_keyed_with_the_secret(self, app, client):
        send_comment(client, app, "con avatar")
        with app.app_context():
            comment = newest_comment()
        set_status(app, comment.id, "approved")
        page = soup(client.get(POST_URL))
        src = page.select_one(f"#comment-{comment.id} img.avatar")["src"]
        key = avatar_key("test-secret-key", "lucia@example.org")
        assert src == f"/avatar/{key}.svg"
        assert key != avatar_key("another-secret", "lucia@example.org")
        assert all(
            img["src"].startswith("/avatar/") for img in page.select("img.avatar")
        )
        svg = client.get(src)
        assert svg.status_code == 200
        assert svg.mimetype == "image/svg+xml"
        assert svg.headers["Content-Security-Policy"] == "default-src 'none'"
        assert svg.get_data(as_text=True).startswith("<svg ")
        assert client.get(src).get_data() == svg.get_data()

    @pytest.mark.parametrize("key", ["short", "Z" * 32, "a" * 33])
    def test_a_malformed_avatar_key_is_404(self, client, key):
        assert client.get(f"/avatar/{key}.svg").status_code == 404

    def test_gravatar_is_an_option(self, app, client):
        app.config["AVATARS"] = "gravatar"
        send_comment(client, app)
        with app.app_context():
            comment = newest_comment()
        set_status(app, comment.id, "approved")
        page = soup(client.get(POST_URL))
        src = page.select_one(f"#comment-{comment.id} img.avatar")["src"]
        assert src.startswith("https://www.gravatar.com/avatar/")

    @pytest.mark.parametrize("avatars", ["identicon", "gravatar"])
    def test_a_held_comment_shows_no_icon_of_its_email(self, app, client, avatars):
        # Otherwise anybody could test whether an address wrote a public
        # comment: send one with it, and compare the icon their browser shows.
        app.config.update(AVATARS=avatars, COMMENT_HOLD_ALL=True)
        public = add_comment(
            app,
            status="approved",
            author_email="mario.rossi@example.it",
            created_at=utcnow() - timedelta(days=1),
        )
        send_comment(client, app, "sonda", email="mario.rossi@example.it")
        with app.app_context():
            probe = db.session.query(Comment).filter_by(content="sonda").one()
        assert probe.status == "pending"
        page = soup(client.get(POST_URL))
        shown = page.select_one(f"#comment-{public} img.avatar")["src"]
        held = page.select_one(f"#comment-{probe.id} img.avatar")["src"]
        assert held.startswith("/avatar/") and held != shown


class TestNoInlineCode:
    def test_scripts_come_from_our_own_file(self, client):
        page = soup(client.get(f"{POST_URL}?replytocom=1"))
        scripts = page.select("script")
        [src] = [s["src"] for s in scripts]
        assert src.startswith("/static/js/comment-reply.js?v=")
        assert all(not s.get_text().strip() for s in scripts)
        assert page.select("[style]") == []
        html = str(page)
        assert not re.search(r"\son[a-z]+=", html)
        with client.get(scripts[0]["src"]) as script:
            assert script.status_code == 200
            assert script.mimetype == "text/javascript"

    def test_the_script_moves_the_form_and_fills_the_parent(self):
        source = (STATIC_JS / "comment-reply.js").read_text("utf-8")
        for needed in (
            "comment_parent",
            "cancel-comment-reply-link",
            "comment-reply-link",
            "Rispondi a ",
            "insertBefore",
        ):
            assert needed in source
        assert "innerHTML" not in source


@pytest.mark.parametrize(
    ("status", "owner", "shown"),
    [
        ("approved", "", True),
        ("pending", "", False),
        ("pending", "mine", True),
        ("pending", "someone-else", False),
        ("spam", "mine", True),  # the spammer learns nothing
        ("trash", "mine", False),
    ],
)
def test_who_sees_a_response(status, owner, shown):
    comment = Comment(status=status, owner_token_hash="mine")
    assert is_visible(comment, owner) is shown
