"""A commenter edits or deletes their own comment: the browser that wrote it,
within COMMENT_EDIT_SECONDS, while nobody has replied (#14)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from helpers_comments import (
    POST_URL,
    newest_comment,
    send_comment,
    soup,
    sqlite_plan,
    stage_comment,
    statements_during,
    stored_comment,
    the_post,
)
from sqlalchemy import func, select

from blog.comments import notices, operations, owner_views
from blog.comments.forms import CSRF_MESSAGE
from blog.comments.notices import relay_held_marks
from blog.comments.operations import ORPHANED_REASON
from blog.comments.owner_views import DELETED_NOTICE
from blog.comments.ownership import (
    EXPIRED_MESSAGE,
    GONE_MESSAGE,
    NOT_OWNER_MESSAGE,
    REPLIED_MESSAGE,
    refuse_change,
)
from blog.core.settings import content_version
from blog.extensions import db
from blog.models import Comment, OutboxMessage, utcnow

pytestmark = pytest.mark.app_config(COMMENT_HOLD_ALL=False)


def post_comment(app, client, text: str = "Bell'articolo, grazie.") -> int:
    """Send a comment as a reader; its id (the client now holds the owner token)."""
    assert send_comment(client, app, text).status_code == 302
    with app.app_context():
        return newest_comment().id


def owner_links(client, comment_id: int) -> list[str]:
    item = soup(client.get(POST_URL)).select_one(f"#comment-{comment_id}")
    # Its own body's links, not those of a reply nested in its <li>.
    return [
        a.get_text()
        for a in item.select(":scope > .comment-body .comment-owner-links a")
    ]


def approve(app, comment_id: int) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = "approved"
        db.session.commit()


def held_notices(app, comment_id: int) -> int:
    """Held notices queued for the author about ``comment_id``, once the mail
    job has turned the marks into outbox rows."""
    with app.app_context():
        relay_held_marks()
        return db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "held", OutboxMessage.ref_id == comment_id
            )
        )


def form_fields(response) -> dict[str, str]:
    form = soup(response).select_one("form.comment-edit-form, form.comment-delete-form")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    for area in form.select("textarea[name]"):
        fields[area["name"]] = area.get_text().lstrip("\n")
    return fields


def edit(client, comment_id: int, text: str):
    url = f"/comment/{comment_id}/edit"
    fields = form_fields(client.get(url))
    fields["comment"] = text
    return client.post(url, data=fields)


def delete(client, comment_id: int):
    url = f"/comment/{comment_id}/delete"
    return client.post(url, data=form_fields(client.get(url)))


def age(app, comment_id: int, seconds: float) -> None:
    """Make the comment ``seconds`` old."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment.created_at = utcnow() - timedelta(seconds=seconds)
        db.session.commit()


class TestTheRule:
    """``refuse_change`` decides for the page's links and the POSTs alike."""

    NOW = utcnow()

    def comment(self, seconds_old: float, **values) -> Comment:
        values.setdefault("owner_token_hash", "h" * 64)
        values.setdefault("status", "approved")
        values.setdefault("type", "comment")
        return Comment(
            created_at=self.NOW - timedelta(seconds=seconds_old),
            **values,
        )

    def test_inside_the_window_the_owner_may(self):
        assert refuse_change(self.comment(899), "h" * 64, self.NOW, 900, False) is None

    def test_the_window_closes_at_exactly_its_length(self):
        refusal = refuse_change(self.comment(900), "h" * 64, self.NOW, 900, False)
        assert (refusal.status_code, refusal.message) == (403, EXPIRED_MESSAGE)

    def test_zero_seconds_turns_editing_off(self):
        assert refuse_change(self.comment(0), "h" * 64, self.NOW, 0, False)

    def test_another_browser_may_not(self):
        refusal = refuse_change(self.comment(1), "x" * 64, self.NOW, 900, False)
        assert refusal.message == NOT_OWNER_MESSAGE

    @pytest.mark.parametrize("status", ["pending", "spam"])
    def test_another_browser_cannot_tell_a_hidden_comment_from_a_missing_one(
        self, status
    ):
        # As its page does: a 404, not a 403 that says the id is somebody's.
        comment = self.comment(1, status=status)
        refusal = refuse_change(comment, "x" * 64, self.NOW, 900, False)
        assert (refusal.status_code, refusal.message) == (404, GONE_MESSAGE)
        assert refuse_change(comment, "", self.NOW, 900, False).status_code == 404

    def test_no_token_is_no_proof_even_against_a_comment_without_one(self):
        comment = self.comment(1, owner_token_hash="")
        assert refuse_change(comment, "", self.NOW, 900, False).status_code == 403

    def test_a_replied_comment_is_kept(self):
        refusal = refuse_change(self.comment(1), "h" * 64, self.NOW, 900, True)
        assert refusal.message == REPLIED_MESSAGE

    def test_a_trashed_comment_is_gone(self):
        comment = self.comment(1, status="trash")
        assert refuse_change(comment, "h" * 64, self.NOW, 900, False).status_code == 404

    def test_pings_are_nobody_s_to_edit(self):
        ping = self.comment(1, type="pingback")
        assert refuse_change(ping, "h" * 64, self.NOW, 900, False).status_code == 404


class TestLinks:
    def test_the_writing_browser_sees_modifica_and_elimina(self, app, client):
        comment_id = post_comment(app, client)
        assert owner_links(client, comment_id) == ["Modifica", "Elimina"]

    def test_the_links_lead_to_pages_that_change_nothing(self, app, client):
        comment_id = post_comment(app, client)
        with app.app_context():
            version = content_version()
        item = soup(client.get(POST_URL)).select_one(f"#comment-{comment_id}")
        for link in item.select(".comment-owner-links a"):
            page = client.get(link["href"])
            assert page.status_code == 200
            assert page.headers["Cache-Control"] == "private, no-store"
        assert stored_comment(app, comment_id).status == "approved"
        with app.app_context():
            assert content_version() == version

    def test_another_browser_sees_no_links(self, app, client):
        comment_id = post_comment(app, client)
        other = app.test_client()
        assert owner_links(other, comment_id) == []

    def test_no_links_once_the_window_has_passed(self, app, client):
        comment_id = post_comment(app, client)
        age(app, comment_id, 901)
        assert owner_links(client, comment_id) == []

    @pytest.mark.app_config(COMMENT_HOLD_ALL=False, COMMENT_EDIT_SECONDS=0)
    def test_no_links_when_editing_is_off(self, app, client):
        comment_id = post_comment(app, client)
        assert owner_links(client, comment_id) == []

    # A reply the writer sees takes the comment from them; a stranger's held
    # reply, which they cannot see, neither does nor betrays itself (a troll
    # could otherwise take every comment's "Elimina" away); their own does.
    @pytest.mark.parametrize(
        ("status", "own", "links", "edit_page"),
        [
            ("approved", False, [], 403),
            ("pending", True, [], 403),
            ("pending", False, ["Modifica", "Elimina"], 200),
            ("spam", False, ["Modifica", "Elimina"], 200),
        ],
    )
    def test_the_links_show_exactly_when_the_edit_page_opens(
        self, app, client, status, own, links, edit_page
    ):
        comment_id = post_comment(app, client)
        with app.app_context():
            parent = db.session.get(Comment, comment_id)
            mine = parent.owner_token_hash if own else "f" * 64
            stage_comment(
                the_post(), parent=parent, status=status, owner_token_hash=mine
            )
            db.session.commit()
        assert owner_links(client, comment_id) == links
        assert client.get(f"/comment/{comment_id}/edit").status_code == edit_page

    def test_the_shared_cached_page_never_carries_the_links(self, app, client):
        comment_id = post_comment(app, client)
        anonymous = app.test_client()
        before = anonymous.get(POST_URL)  # renders and fills the shared cache
        assert owner_links(client, comment_id) == ["Modifica", "Elimina"]
        after = anonymous.get(POST_URL)  # served from the cache
        for page in (before, after):
            assert f"/comment/{comment_id}/edit" not in page.get_data(as_text=True)
        assert soup(after).select_one(f"#comment-{comment_id}") is not None


class TestEditing:
    def test_the_new_text_is_shown_marked_modificato(self, app, client):
        comment_id = post_comment(app, client)
        response = edit(client, comment_id, "Testo *corretto*.")
        assert response.status_code == 302
        item = soup(app.test_client().get(POST_URL)).select_one(
            f"#comment-{comment_id}"
        )
        assert "Testo *corretto*." in item.select_one(".comment-content").get_text()
        assert item.select_one(".comment-edited").get_text() == "(modificato)"
        assert stored_comment(app, comment_id).edited_at is not None

    def test_the_edit_is_sanitised_like_a_new_comment(self, app, client):
        comment_id = post_comment(app, client)
        edit(client, comment_id, "ciao <script>alert(1)</script><b>sì</b>")
        html = stored_comment(app, comment_id).content_html
        assert "<script" not in html and "<b>sì</b>" in html

    def test_an_edit_adding_links_goes_back_to_the_queue(self, app, client):
        comment_id = post_comment(app, client)
        links = " ".join(f"https://example.org/{n}" for n in range(3))
        edit(client, comment_id, f"Guardate qui: {links}")
        comment = stored_comment(app, comment_id)
        assert comment.status == "pending"
        assert (
            comment.moderation_reason == "modificato da chi scrive: 3 link (limite 2)"
        )
        page = soup(app.test_client().get(POST_URL))
        assert page.select_one(f"#comment-{comment_id}") is None

    @pytest.mark.app_config(COMMENT_HOLD_ALL=False, COMMENT_MODERATION_WORDS="casinò")
    def test_an_edit_tripping_a_word_rule_goes_back_to_the_queue(self, app, client):
        comment_id = post_comment(app, client)
        edit(client, comment_id, "Vieni al casinò")
        assert stored_comment(app, comment_id).status == "pending"

    @pytest.mark.app_config(COMMENT_HOLD_ALL=False, COMMENT_DISALLOWED_WORDS="viagra")
    def test_an_edit_with_a_disallowed_word_goes_to_spam(self, app, client):
        comment_id = post_comment(app, client)
        edit(client, comment_id, "viagra economico")
        assert stored_comment(app, comment_id).status == "spam"

    @pytest.mark.app_config(COMMENT_HOLD_ALL=True)
    def test_where_every_comment_is_held_an_approved_one_edited_is_held_again(
        self, app, client
    ):
        comment_id = post_comment(app, client)
        assert held_notices(app, comment_id) == 1
        approve(app, comment_id)
        edit(client, comment_id, "Compra ORA, sconto del 90%")
        comment = stored_comment(app, comment_id)
        assert comment.status == "pending"
        assert comment.moderation_reason.startswith("modificato da chi scrive: ")
        page = soup(app.test_client().get(POST_URL))
        assert page.select_one(f"#comment-{comment_id}") is None
        # The author hears of it as of a new held comment (one notice at its
        # arrival, one now).
        assert held_notices(app, comment_id) == 2

    @pytest.mark.app_config(COMMENT_HOLD_ALL=True)
    def test_an_edit_held_again_keeps_its_mark_when_a_worker_takes_the_old_one(
        self, app, client, monkeypatch
    ):
        comment_id = post_comment(app, client)
        approve(app, comment_id)  # before the mail job ran: its mark stands
        hold = operations.hold_for_change

        def mail_job_meanwhile(*args):
            # Another worker's mail job takes the mark the edit has read.
            with db.engine.connect() as other:
                other.execute(notices._TAKE_MARKS, {"batch": notices.RELAY_BATCH})
                other.commit()
            return hold(*args)

        monkeypatch.setattr(operations, "hold_for_change", mail_job_meanwhile)
        edit(client, comment_id, "Compra ORA, sconto del 90%")
        assert stored_comment(app, comment_id).status == "pending"
        assert held_notices(app, comment_id) == 1

    @pytest.mark.app_config(COMMENT_HOLD_ALL=True, COMMENT_AUTO_APPROVE_KNOWN=True)
    def test_a_trusted_returning_writer_s_edit_stays_approved(self, app, client):
        comment_id = post_comment(app, client)
        assert held_notices(app, comment_id) == 1  # at its arrival
        approve(app, comment_id)
        edit(client, comment_id, "Solo un refuso corretto.")
        assert stored_comment(app, comment_id).status == "approved"
        assert held_notices(app, comment_id) == 1

    @pytest.mark.app_config(COMMENT_HOLD_ALL=True)
    def test_an_edit_that_changes_nothing_keeps_the_approval(self, app, client):
        comment_id = post_comment(app, client)
        approve(app, comment_id)
        edit(client, comment_id, "Bell'articolo, grazie.")
        assert stored_comment(app, comment_id).status == "approved"

    @pytest.mark.app_config(COMMENT_HOLD_ALL=True)
    def test_a_held_comment_stays_held_after_an_edit(self, app, client):
        comment_id = post_comment(app, client)
        edit(client, comment_id, "Un'altra versione.")
        assert stored_comment(app, comment_id).status == "pending"

    def test_an_empty_text_comes_back_with_a_message(self, app, client):
        comment_id = post_comment(app, client)
        response = edit(client, comment_id, "   ")
        assert response.status_code == 422
        assert "Scrivi il testo del commento." in soup(response).get_text()
        assert stored_comment(app, comment_id).content == "Bell'articolo, grazie."

    def test_a_stale_form_keeps_the_typed_text(self, app, client):
        comment_id = post_comment(app, client)
        response = client.post(
            f"/comment/{comment_id}/edit",
            data={"csrf_token": "scaduto", "comment": "Il mio testo nuovo"},
        )
        assert response.status_code == 400
        page = soup(response)
        assert page.select_one("textarea[name=comment]").get_text().strip() == (
            "Il mio testo nuovo"
        )
        assert page.select_one(".form-error").get_text(strip=True) == CSRF_MESSAGE
        assert page.select_one(".form-error[autofocus]")  # read out on arrival

    def test_a_stale_deletion_says_so_in_italian(self, app, client):
        comment_id = post_comment(app, client)
        response = client.post(f"/comment/{comment_id}/delete", data={})
        assert response.status_code == 400
        assert soup(response).select_one(".form-error").get_text(strip=True) == (
            CSRF_MESSAGE
        )
        assert stored_comment(app, comment_id).status == "approved"


class TestForgedRequests:
    def test_another_browser_gets_403_in_italian(self, app, client):
        comment_id = post_comment(app, client)
        other = app.test_client()
        response = other.post(f"/comment/{comment_id}/edit", data={"comment": "rubato"})
        assert response.status_code == 403
        assert NOT_OWNER_MESSAGE in soup(response).get_text()
        assert soup(response).find("textarea") is None  # nothing of the comment
        assert other.post(f"/comment/{comment_id}/delete").status_code == 403
        assert stored_comment(app, comment_id).content == "Bell'articolo, grazie."
        assert stored_comment(app, comment_id).status == "approved"

    def test_after_the_window_the_owner_gets_403(self, app, client):
        comment_id = post_comment(app, client)
        edit_page = form_fields(client.get(f"/comment/{comment_id}/edit"))
        age(app, comment_id, 900)
        response = client.post(
            f"/comment/{comment_id}/edit", data={**edit_page, "comment": "tardi"}
        )
        assert response.status_code == 403
        page = soup(response)
        assert EXPIRED_MESSAGE in page.select_one(".form-error").get_text()
        # What was typed comes back to be copied, nothing is saved.
        assert page.select_one("textarea#typed").get_text().strip() == "tardi"
        assert page.find("form", class_="comment-edit-form") is None
        assert stored_comment(app, comment_id).content == "Bell'articolo, grazie."

    @pytest.mark.parametrize("gone", ["trash", "deleted"])
    def test_a_comment_gone_while_its_writer_typed_gives_the_text_back(
        self, app, client, gone
    ):
        comment_id = post_comment(app, client)
        edit_page = form_fields(client.get(f"/comment/{comment_id}/edit"))
        with app.app_context():
            comment = db.session.get(Comment, comment_id)
            if gone == "trash":
                comment.status = "trash"
            else:
                db.session.delete(comment)
            db.session.commit()
        response = client.post(
            f"/comment/{comment_id}/edit", data={**edit_page, "comment": "nuovo testo"}
        )
        assert response.status_code == 404
        page = soup(response)
        assert GONE_MESSAGE in page.get_text()
        assert page.select_one("textarea").get_text().strip() == "nuovo testo"

    def test_just_inside_the_window_the_owner_may_still_edit(self, app, client):
        comment_id = post_comment(app, client)
        age(app, comment_id, 880)
        assert edit(client, comment_id, "in tempo").status_code == 302
        assert stored_comment(app, comment_id).content == "in tempo"

    def test_a_replied_comment_refuses_with_403(self, app, client):
        comment_id = post_comment(app, client)
        fields = form_fields(client.get(f"/comment/{comment_id}/delete"))
        with app.app_context():
            parent = db.session.get(Comment, comment_id)
            stage_comment(the_post(), parent=parent, author_name="Marco")
            db.session.commit()
        response = client.post(f"/comment/{comment_id}/delete", data=fields)
        assert response.status_code == 403
        assert REPLIED_MESSAGE in soup(response).get_text()
        assert stored_comment(app, comment_id).status == "approved"


class TestDeleting:
    def test_delete_moves_it_to_the_trash_off_the_page_and_counts(self, app, client):
        comment_id = post_comment(app, client)
        anonymous = app.test_client()
        heading = soup(anonymous.get(POST_URL)).select_one("#comments h2").get_text()
        response = delete(client, comment_id)
        assert response.status_code == 302
        page = soup(anonymous.get(POST_URL))
        assert page.select_one(f"#comment-{comment_id}") is None
        assert page.select_one("#comments h2").get_text() != heading
        assert page.select_one("#comments .comment-notice") is None  # theirs only
        own = soup(client.get(response.headers["Location"]))
        assert own.select_one(f"#comment-{comment_id}") is None
        # Said where the page opens (#comments), once: a screen reader hears it.
        notice = own.select_one("#comments > .comment-notice[role=status]")
        assert notice.get_text() == DELETED_NOTICE
        assert soup(client.get(POST_URL)).select_one(".comment-notice") is None
        comment = stored_comment(app, comment_id)
        assert (comment.status, comment.status_before) == ("trash", "approved")

    def test_the_page_says_how_long_the_trash_keeps_it(self, app, client):
        comment_id = post_comment(app, client)
        text = soup(client.get(f"/comment/{comment_id}/delete")).get_text(" ")
        assert "per 30 giorni" in " ".join(text.split())
        app.config["COMMENT_TRASH_DAYS"] = 0
        text = soup(client.get(f"/comment/{comment_id}/delete")).get_text(" ")
        assert "finché non lo svuota" in " ".join(text.split())

    def test_the_author_can_restore_it(self, app, client, author_client):
        comment_id = post_comment(app, client)
        delete(client, comment_id)
        token = soup(author_client.get("/admin/comments?view=trash")).select_one(
            "input[name=csrf_token]"
        )["value"]
        author_client.post(
            f"/admin/comments/{comment_id}/action",
            data={"action": "restore", "csrf_token": token},
        )
        assert stored_comment(app, comment_id).status == "approved"
        assert soup(app.test_client().get(POST_URL)).select_one(
            f"#comment-{comment_id}"
        )

    def test_a_deleted_comment_cannot_be_edited_any_more(self, app, client):
        comment_id = post_comment(app, client)
        delete(client, comment_id)
        assert client.get(f"/comment/{comment_id}/edit").status_code == 404


def test_the_edit_page_asks_for_replies_by_index_not_through_every_comment(app, client):
    # A reader holding one comment's cookie can open its edit page at will:
    # "has it an answer?" must not read every comment of the site.
    comment_id = post_comment(app, client)
    [(statement, parameters)] = statements_during(
        app,
        lambda sql: "parent_id IN" in sql and "DISTINCT" in sql,
        lambda: client.get(f"/comment/{comment_id}/edit"),
    )
    plan = sqlite_plan(app, statement, parameters)
    assert "ix_comment_parent_status (parent_id=? AND status=?)" in plan


def test_a_permalink_looks_for_an_imported_twin_by_index(app, client):
    # Any visitor may follow any permalink: the look-up of an imported
    # comment whose old id is this one's must not read the whole post.
    comment_id = post_comment(app, client)
    [(statement, parameters)] = statements_during(
        app,
        lambda sql: "legacy_id =" in sql,
        lambda: client.get(f"/comment/{comment_id}/"),
    )
    plan = sqlite_plan(app, statement, parameters)
    assert "ix_comment_post_legacy (post_id=? AND legacy_id=?)" in plan


@pytest.mark.app_config(COMMENT_HOLD_ALL=False, POST_LIMIT_PER_ADDRESS="2 per hour")
class TestTheAddressBudget:
    """Edits and deletions count against the budget of every public POST: an
    approved comment's edit renews every cached page, so a loop of edits would
    otherwise empty the page cache as fast as it sends."""

    def test_an_edit_over_the_budget_is_refused_with_the_text_kept(
        self, app, client, count_queries
    ):
        comment_id = post_comment(app, client)
        url = f"/comment/{comment_id}/edit"
        fields = form_fields(client.get(url))
        for number in range(2):
            response = client.post(url, data=fields | {"comment": f"V{number}"})
            assert response.status_code == 302
        with count_queries() as counter:
            refused = client.post(url, data=fields | {"comment": "Il mio testo"})
        assert counter.count == 0
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["Cache-Control"] == "private, no-store"
        again = form_fields(refused)
        assert again == fields | {"comment": "Il mio testo"}
        assert "riprova più tardi" in soup(refused).select_one(".form-error").get_text()
        assert stored_comment(app, comment_id).content == "V1"

    def test_a_deletion_over_the_budget_is_refused_and_changes_nothing(
        self, app, client
    ):
        comment_id = post_comment(app, client)
        url = f"/comment/{comment_id}/delete"
        fields = form_fields(client.get(url))
        for _ in range(2):  # each view has its own budget
            assert client.post(url, data={"csrf_token": "x"}).status_code == 400
        refused = client.post(url, data=fields)
        assert refused.status_code == 429
        assert form_fields(refused) == fields
        assert stored_comment(app, comment_id).status == "approved"

    def test_the_refused_text_comes_back_with_its_first_line_break(self, app, client):
        # A browser drops the newline just after <textarea>: the page puts one
        # there, so a text that starts with a line break keeps it.
        comment_id = post_comment(app, client)
        url = f"/comment/{comment_id}/edit"
        fields = form_fields(client.get(url))
        for _ in range(3):
            refused = client.post(url, data=fields | {"comment": "\nciao"})
        assert refused.status_code == 429
        assert soup(refused).select_one("textarea").get_text() == "\n\nciao"

    @pytest.mark.app_config(
        COMMENT_HOLD_ALL=False,
        POST_LIMIT_PER_ADDRESS="2 per hour",
        SITE_URL="http://localhost/blog",
    )
    def test_under_a_site_root_the_refusal_links_hold_it(self, app, client):
        mounted = {"SCRIPT_NAME": "/blog"}
        url = "/comment/1/edit"
        for _ in range(3):
            refused = client.post(url, data={"comment": "x"}, environ_base=mounted)
        assert refused.status_code == 429
        page = soup(refused)
        assert page.select_one("link[rel=stylesheet]")["href"].startswith("/blog/")
        assert page.select_one(".site-title a")["href"] == "/blog/"


def test_a_held_reply_goes_to_the_trash_with_the_comment_its_writer_deletes(
    app, client
):
    # A stranger's held reply no longer keeps the comment from its writer;
    # approved afterwards, it would answer nothing on the page yet be counted.
    comment_id = post_comment(app, client)
    with app.app_context():
        parent = db.session.get(Comment, comment_id)
        reply_id = stage_comment(
            the_post(), parent=parent, status="pending", owner_token_hash="f" * 64
        ).id
        db.session.commit()
    assert delete(client, comment_id).status_code == 302
    reply = stored_comment(app, reply_id)
    assert (reply.status, reply.status_before) == ("trash", "pending")
    assert reply.moderation_reason == ORPHANED_REASON


def test_a_reply_approved_while_the_writer_deletes_keeps_the_comment(
    app, client, monkeypatch
):
    # The author approves a reply between the page's check and the deletion:
    # asked again under the lock, the deletion is refused, nothing changed.
    comment_id = post_comment(app, client)
    with app.app_context():
        parent = db.session.get(Comment, comment_id)
        stage_comment(the_post(), parent=parent, status="approved")
        db.session.commit()
    monkeypatch.setattr(owner_views, "has_replies", lambda comment, owner: False)
    response = delete(client, comment_id)
    assert response.status_code == 403
    assert REPLIED_MESSAGE in soup(response).get_text()
    assert stored_comment(app, comment_id).status == "approved"


def test_a_reply_being_stored_while_the_writer_deletes_keeps_the_comment(app, client):
    # A reply's INSERT is made, not yet committed, when the writer deletes:
    # the deletion waits for it (on PostgreSQL, by the lock on the parent's
    # row; on SQLite, by the write lock), then sees it and is refused.
    comment_id = post_comment(app, client)
    inserted = threading.Event()

    def reply() -> None:
        with app.app_context():
            parent = db.session.get(Comment, comment_id)
            stage_comment(the_post(), parent=parent, status="approved")
            inserted.set()
            time.sleep(1)
            db.session.commit()

    writer = threading.Thread(target=reply)
    writer.start()
    try:
        assert inserted.wait(5)
        response = delete(client, comment_id)
    finally:
        writer.join(10)
    assert response.status_code == 403
    assert stored_comment(app, comment_id).status == "approved"


def test_the_authors_trash_while_the_writer_deletes_stands(app, client, monkeypatch):
    # The author moves the comment to the trash between the page's check and
    # the deletion: asked again of the comment as it is now, the deletion is
    # refused, and the author's reason is not overwritten by the writer's.
    comment_id = post_comment(app, client)
    real = owner_views.withdraw_response

    def author_trashes_first(comment, *args):
        with app.app_context():  # the author's request, meanwhile
            stored = db.session.get(Comment, comment.id)
            stored.status, stored.moderation_reason = "trash", "fuori tema"
            db.session.commit()
        return real(comment, *args)

    monkeypatch.setattr(owner_views, "withdraw_response", author_trashes_first)
    assert delete(client, comment_id).status_code == 404
    stored = stored_comment(app, comment_id)
    assert (stored.status, stored.moderation_reason) == ("trash", "fuori tema")
