"""What an accepted comment costs the database: a fixed, small set of statements.

The form's write path reads the settings (the content version among them),
the post's row (once per worker while that version stands) and the sender's
history (one statement of indexed look-ups), then writes the comment with one
INSERT and the author's notice as one outbox row, in one transaction. A held
comment moves no version: readers do not see it, and the queue's counts follow
the latest id.
"""

from __future__ import annotations

import gc
import re
from datetime import timedelta

import pytest
from flask import url_for
from helpers_admin import add_comment
from helpers_comments import (
    POST_SLUG,
    filled_form,
    old_stamp,
    plan_of,
    read_form,
    send_comment,
    set_status,
    sqlite_plan,
    statements_during,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from blog.comments.forms import CommentForm
from blog.comments.moderation import CLOSED_MESSAGE
from blog.comments.operations import NewResponse, add_response
from blog.core.settings import CommentSettings, save_settings
from blog.extensions import db
from blog.models import Comment, Post, utcnow
from blog.web import forms as web_forms


def post_comment(app, client, count_queries, text="Ben detto.") -> list[str]:
    """The statements of one accepted comment POST (the form is read before)."""
    action, data, post_id = read_form(client)
    data.update(author="Lucia", email="lucia@example.org", comment=text)
    data["stamp"] = old_stamp(app, post_id)
    with count_queries() as counter:
        response = client.post(action, data=data)
    assert response.status_code == 302
    return counter.statements


def reads_of_post(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"\bFROM post\b", s)]


@pytest.mark.parametrize("flood_rule", [True, False], ids=["flood-on", "flood-off"])
def test_an_accepted_comment_is_one_insert_and_no_update_of_it(
    app, client, count_queries, flood_rule, db_backend
):
    if not flood_rule:
        with app.app_context():
            save_settings(CommentSettings(flood_seconds=0))
            db.session.commit()
    post_path = post_comment(app, client, count_queries)
    inserts = [s for s in post_path if s.lstrip().upper().startswith("INSERT")]
    # The comment alone: the author's held notice is a mark on its row, which
    # the mail job turns into an outbox row (never rendered or sent here).
    assert [re.match(r"\s*INSERT INTO (\w+)", s).group(1) for s in inserts] == [
        "comment"
    ]
    # Held, it changes no page a reader sees: no content version is written.
    # On SQLite the queue's counts follow the new id; PostgreSQL, whose writers
    # commit ids out of order, moves the responses version.
    updates = [s for s in post_path if re.match(r"\s*UPDATE\b", s)]
    if db_backend == "sqlite":
        assert updates == []
        # The version, the post, the history; then the write lock taken with
        # quick retries (``begin_sqlite_write``) and the INSERT.
        assert len(post_path) == 7
        assert post_path[3:6] == [
            "PRAGMA busy_timeout=0",
            "BEGIN IMMEDIATE",
            "PRAGMA busy_timeout=5000",
        ]
        assert post_path[6].lstrip().startswith("INSERT INTO comment")
    else:
        [update_version] = updates
        assert re.match(r"\s*UPDATE setting\b", update_version)
        assert len(post_path) == 5
    # The history of the sender (duplicate, pace, proof) is one statement.
    reads_of_comments = [s for s in post_path if re.search(r"\bFROM comment\b", s)]
    assert len(reads_of_comments) == 1
    # The post's row alone: its categories are not loaded to store a comment.
    assert len(reads_of_post(post_path)) == 1
    assert not [s for s in post_path if "post_categories" in s]


def test_a_wave_of_held_comments_reads_the_post_and_settings_once(
    app, client, count_queries, db_backend
):
    with app.app_context():
        save_settings(CommentSettings(flood_seconds=0))
        db.session.commit()
    post_comment(app, client, count_queries, "Primo commento.")
    second = post_comment(app, client, count_queries, "Secondo commento.")
    assert not reads_of_post(second)
    # The content version alone, on the page cache's connection: the rows of
    # the settings are kept with it.
    [version] = [s for s in second if re.search(r"\bFROM setting\b", s)]
    assert "content_version" in version
    # The version, the history, the INSERT (on SQLite after the three
    # statements that take the write lock; on PostgreSQL with the responses
    # version's UPDATE).
    assert len(second) == (6 if db_backend == "sqlite" else 4)


def test_a_setting_saved_meanwhile_rules_the_next_comment(app, client, count_queries):
    with app.app_context():
        save_settings(CommentSettings(flood_seconds=0))
        db.session.commit()
    post_comment(app, client, count_queries, "Trattenuto.")
    action, data = filled_form(client, app, "Pubblicato.")
    # Another worker (or the author's settings page) lets comments through.
    with app.app_context():
        save_settings(
            CommentSettings(hold_all=False, auto_approve_known=False, flood_seconds=0)
        )
        db.session.commit()
    assert client.post(action, data=data).status_code == 302
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(Comment.content, Comment.status).where(
                    Comment.content.in_(("Trattenuto.", "Pubblicato."))
                )
            ).all()
        )
    assert statuses == {"Trattenuto.": "pending", "Pubblicato.": "approved"}


def test_a_comment_readers_see_makes_the_next_one_read_the_post_again(
    app, client, count_queries
):
    with app.app_context():
        save_settings(
            CommentSettings(hold_all=False, auto_approve_known=False, flood_seconds=0)
        )
        db.session.commit()
    first = post_comment(app, client, count_queries, "Pubblicato subito.")
    # Shown at once: the content version moves with it.
    assert [s for s in first if re.match(r"\s*UPDATE setting\b", s)]
    second = post_comment(app, client, count_queries, "Anche questo.")
    assert len(reads_of_post(second)) == 1


def test_closing_the_post_refuses_the_next_comment_at_once(app, client):
    with app.app_context():
        save_settings(CommentSettings(flood_seconds=0))
        db.session.commit()
    assert send_comment(client, app, "Prima della chiusura.").status_code == 302
    # A page opened before the author closed the post.
    action, data = filled_form(client, app, "Dopo la chiusura.")
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.slug == POST_SLUG))
        post.comment_status = "closed"
        db.session.commit()
    response = client.post(action, data=data)
    assert response.status_code == 403
    assert CLOSED_MESSAGE in response.get_data(as_text=True)
    # The refusal's page still links the post's comment feed, as the post does.
    with app.test_request_context():
        feed = url_for("feeds.post_responses", slug=POST_SLUG)
    assert f'href="{feed}"' in response.get_data(as_text=True)


def test_the_flood_rule_still_sees_the_last_comment_of_the_sender(app, client):
    first = send_comment(client, app, text="Primo commento.")
    assert first.status_code == 302
    second = send_comment(client, app, text="Secondo commento, subito dopo.")
    assert second.status_code == 429
    with app.app_context():
        texts = [c.content for c in db.session.query(Comment).filter_by(type="comment")]
    assert "Secondo commento, subito dopo." not in texts


def without_flood_rule(app) -> None:
    with app.app_context():
        save_settings(CommentSettings(flood_seconds=0))
        db.session.commit()


# Longer than the head the index keeps (blog.models.CONTENT_HEAD): the
# duplicate rule must still compare the whole text.
LONG = "Un commento lungo che dice la stessa cosa per più di sessantaquattro lettere, "


@pytest.mark.parametrize(
    ("first", "second", "status"),
    [
        (LONG + "e finisce così.", LONG + "e finisce così.", 409),
        (LONG + "e finisce così.", LONG + "ma finisce altrimenti.", 302),
        ("Breve.", "Breve.", 409),
        ("Breve.", "Breve. E poi altro.", 302),
        (LONG, LONG + "e continua", 302),
    ],
    ids=["same-long", "same-head-other-tail", "same-short", "prefix", "longer"],
)
def test_the_duplicate_rule_compares_the_whole_text(app, client, first, second, status):
    without_flood_rule(app)
    assert send_comment(client, app, text=first).status_code == 302
    # The same writer from another browser (from the same one, see below).
    other = app.test_client()
    assert send_comment(other, app, text=second).status_code == status


def test_the_same_text_again_from_the_same_browser_leads_to_the_first(app, client):
    # Back, then "Invia" again: the comment had arrived; it is not stored twice
    # and its writer is taken to it, told so.
    without_flood_rule(app)
    first = send_comment(client, app, text="Arrivato?")
    again = send_comment(client, app, text="Arrivato?")
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Comment.id)).where(Comment.content == "Arrivato?")
            )
            == 1
        )
    page = client.get(again.headers["Location"], follow_redirects=True)
    assert "Questo commento era già arrivato" in page.get_data(as_text=True)


def test_the_same_text_answering_another_comment_is_another_comment(app, client):
    # "Grazie!" to Marco, then "Grazie!" to Valentina: two replies, as in
    # WordPress, whose duplicate rule compares the comment answered too.
    without_flood_rule(app)
    with app.app_context():
        first, second = db.session.scalars(
            select(Comment.id)
            .where(Comment.status == "approved", Comment.type == "comment")
            .limit(2)
        ).all()
    to_first = send_comment(client, app, text="Grazie!", comment_parent=str(first))
    assert to_first.status_code == 302
    to_second = send_comment(client, app, text="Grazie!", comment_parent=str(second))
    assert to_second.status_code == 302
    assert to_second.headers["Location"] != to_first.headers["Location"]
    with app.app_context():
        parents = db.session.scalars(
            select(Comment.parent_id).where(Comment.content == "Grazie!")
        ).all()
    assert sorted(parents) == sorted([first, second])
    # To the first again: the duplicate rule, from another browser.
    other = app.test_client()
    again = send_comment(other, app, text="Grazie!", comment_parent=str(first))
    assert again.status_code == 409


def test_a_comment_in_the_trash_is_no_duplicate(app, client):
    # Its writer deleted it (or the author trashed it): sending the text again
    # is a new comment, not a repeat.
    without_flood_rule(app)
    assert send_comment(client, app, text="Breve.").status_code == 302
    with app.app_context():
        first = db.session.scalar(select(func.max(Comment.id)))
    set_status(app, first, "trash")
    assert send_comment(client, app, text="Breve.").status_code == 302


def test_the_flood_rule_counts_from_the_senders_latest_comment(app, client):
    # The email last wrote an hour ago, the address five seconds ago: the
    # address's comment is the one the pace counts from.
    now = utcnow()
    add_comment(
        app,
        author_email="lucia@example.org",
        author_ip="192.0.2.2",
        created_at=now - timedelta(hours=1),
    )
    add_comment(
        app,
        author_email="altro@example.org",
        author_ip="192.0.2.1",
        created_at=now - timedelta(seconds=5),
    )
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    assert send_comment(client, app, email="lucia@example.org").status_code == 429


def test_an_ipv6_client_gets_the_pace_of_one_address_in_its_slash_64(app, client):
    # It could write from a new address of its /64 each time.
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::1"
    assert send_comment(client, app, email="a@example.org").status_code == 302
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::ffff"
    refused = send_comment(client, app, text="Un altro", email="b@example.org")
    assert refused.status_code == 429
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    sent = send_comment(neighbour, app, text="Terzo", author="Carla", email="c@x.org")
    assert sent.status_code == 302


@pytest.mark.parametrize("address", ["2001:db8:1:2::1", "::ffff:198.51.100.9"])
def test_a_refused_comment_does_not_use_up_the_pace(app, client, address):
    # Sent too fast (422, "send it again"): nothing was stored, so sending it
    # again at once is no flood, from an IPv6 address as from an IPv4 one.
    client.environ_base["REMOTE_ADDR"] = address
    assert send_comment(client, app, typed_slowly=False).status_code == 422
    assert send_comment(client, app).status_code == 302


def history_statement(app, client) -> tuple[str, object]:
    """The sender-history statement of one comment POST, with its parameters."""
    [found] = statements_during(
        app,
        lambda sql: "FROM comment" in sql and "EXISTS" in sql,
        lambda: send_comment(client, app, text=LONG + "e finisce così."),
    )
    return found


def test_the_duplicate_rule_finds_the_text_by_index_not_by_reading_the_post(
    app, client
):
    # A spam wave on one post must not make each new comment read all the
    # post's earlier ones: the text's head is looked up in an index.
    without_flood_rule(app)
    backend, plan = plan_of(app, *history_statement(app, client))
    if backend == "sqlite":
        assert "ix_comment_post_content (post_id=? AND <expr>=?)" in plan
    else:
        assert "ix_comment_post_content" in plan
        assert "substr" in plan


def test_the_returning_commenter_proof_reads_no_held_response(app, client):
    # One browser may hold thousands of held responses: the proof of an
    # approved one goes to (token, status), not through all of them.
    with app.app_context():
        save_settings(CommentSettings(flood_seconds=0, auto_approve_known=True))
        db.session.commit()
    assert send_comment(client, app, text="Il primo.").status_code == 302
    plan = sqlite_plan(app, *history_statement(app, client))
    assert "ix_comment_owner_post (owner_token_hash=? AND status=?)" in plan


def store(**values) -> Comment:
    """A response through the one way in, not committed."""
    post = db.session.scalar(db.select(Post).order_by(Post.id))
    values.setdefault("status", "approved")
    return add_response(post, NewResponse(**values), commit=False)


def test_a_stored_response_has_every_column_loaded(app, count_queries):
    with app.app_context():
        comment = store(content="Tutto caricato", author_name="Ada")
        with count_queries() as counter:
            values = {c.key: getattr(comment, c.key) for c in Comment.__table__.c}
        assert counter.count == 0
        assert values["edited_at"] is None and values["author_name"] == "Ada"
        db.session.rollback()


def test_a_rollback_leaves_the_responses_of_its_transaction_as_they_were_built(app):
    with app.app_context():
        first = store(content="Annullato", author_name="Ada")
        db.session.rollback()
        assert first.author_name == "Ada" and first not in db.session
        second = store(content="Dopo l'annullamento", author_name="Bruno")
        db.session.commit()
        stored = db.session.scalars(
            db.select(Comment.content).where(Comment.author_name.in_(["Ada", "Bruno"]))
        ).all()
        assert stored == ["Dopo l'annullamento"]
        assert second.id is not None


def test_a_failed_insert_lets_nothing_of_its_transaction_be_committed(app):
    source = "http://127.0.0.1:9/fonte"
    with app.app_context():
        store(type="pingback", source_url=source, content="Prima fonte")
        db.session.commit()
        store(content="Nella stessa transazione", author_name="Ada")
        with pytest.raises(IntegrityError):
            store(type="pingback", source_url=source, content="Stessa fonte")
        try:
            db.session.commit()
        except PendingRollbackError:
            db.session.rollback()
        names = db.session.scalars(db.select(Comment.author_name)).all()
        assert "Ada" not in names


@pytest.mark.parametrize(
    "name", ["before_insert", "after_insert", "before_update", "after_update"]
)
def test_no_mapper_event_listens_to_comments(app, name):
    # New responses skip the unit of work (``operations._insert``): such a
    # listener would never hear of them. core.signals.response_inserted does.
    assert not list(getattr(Comment.__mapper__.dispatch, name)), name


def test_an_accepted_comment_signs_no_token_for_a_form_it_does_not_show(
    app, client, monkeypatch
):
    with app.app_context():
        save_settings(CommentSettings(flood_seconds=0))
        db.session.commit()
    signed = []
    real = web_forms.generate_csrf
    monkeypatch.setattr(
        web_forms, "generate_csrf", lambda **kw: signed.append(kw) or real(**kw)
    )
    assert send_comment(client, app, "Accettato.").status_code == 302
    # The form was read (and its page made) before: only the POST is counted.
    signed.clear()
    action, data = filled_form(client, app, "Anche questo.")
    signed.clear()
    assert client.post(action, data=data).status_code == 302
    assert signed == []
    # A form sent back shows a token, and it is one the next POST accepts.
    data["comment"] = ""
    page = client.post(action, data=data)
    assert page.status_code == 422 and len(signed) == 1
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(True))
    token = token or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.get_data(True)
    )
    data.update(csrf_token=token.group(1), comment="Di nuovo, con il testo.")
    assert client.post(action, data=data).status_code == 302


def test_an_accepted_comment_leaves_no_form_for_the_garbage_collector(app, client):
    # The form's fields hold it weakly: it is freed when the request ends.
    action, data = filled_form(client, app, "Accettato.")
    gc.collect()
    gc.disable()
    try:
        status = client.post(action, data=data).status_code
        left = [obj for obj in gc.get_objects() if type(obj) is CommentForm]
    finally:
        gc.enable()
    assert status == 302
    assert left == []


def test_an_accepted_comment_is_answered_by_a_redirect_with_no_body(app, client):
    response = send_comment(client, app, "Accettato.")
    assert response.status_code == 302
    assert re.fullmatch(r"/comment/\d+/", response.headers["Location"])
    assert response.get_data() == b""
    assert response.headers["Content-Length"] == "0"
    # The browser follows it to the comment on its page.
    landing = client.get(response.headers["Location"])
    assert landing.status_code == 302 and "#comment-" in landing.headers["Location"]
