"""Helpers for the comment tests: fill the real form, CSRF token included."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers_admin import soup
from sqlalchemy import event

from blog.accounts.session import new_sign_in
from blog.comments.identity import form_stamp
from blog.database import sql_outside_sqlalchemy
from blog.extensions import db
from blog.models import Author, Comment, Post

POST_URL = "/chi-e-e-chi-non-e-il-community-manager/"
POST_SLUG = POST_URL.strip("/")


def read_form(client: FlaskClient, url: str = POST_URL) -> tuple[str, dict, int]:
    """The form's action, its current field values and the post's id."""
    page = soup(client.get(url))
    form = page.select_one("form.comment-form")
    fields = {
        field["name"]: field.get("value", "")
        for field in form.select("input[name]")
        if field.get("type") not in ("checkbox", "submit")
    }
    for area in form.select("textarea[name]"):
        fields[area["name"]] = area.get_text().lstrip("\n")
    post_id = int(page.select_one("article.post")["id"].removeprefix("post-"))
    return form["action"], fields, post_id


def old_stamp(app: Flask, post_id: int, seconds_ago: float = 60) -> str:
    """A genuine stamp for a form rendered ``seconds_ago`` (a reader, not a robot)."""
    with app.app_context():
        return form_stamp(post_id, time.time() - seconds_ago)


def send_comment(
    client: FlaskClient,
    app: Flask,
    text: str = "Bell'articolo, grazie.",
    page_url: str = POST_URL,
    typed_slowly: bool = True,
    **fields: str | None,
):
    """Fill in and send the comment form as a reader would; ``None`` drops a field."""
    action, data = filled_form(client, app, text, page_url, typed_slowly, **fields)
    return client.post(action, data=data)


def filled_form(
    client: FlaskClient,
    app: Flask,
    text: str = "Bell'articolo, grazie.",
    page_url: str = POST_URL,
    typed_slowly: bool = True,
    **fields: str | None,
) -> tuple[str, dict]:
    """The form's action and what a reader sends in it, not sent yet."""
    action, data, post_id = read_form(client, page_url)
    data.update(author="Lucia", email="lucia@example.org", comment=text)
    if typed_slowly:
        data["stamp"] = old_stamp(app, post_id)
    data.update(fields)
    return action, {name: value for name, value in data.items() if value is not None}


def the_post(slug: str = POST_SLUG) -> Post:
    return db.session.query(Post).filter_by(slug=slug).one()


def newest_comment() -> Comment:
    return db.session.query(Comment).order_by(Comment.id.desc()).first()


def set_status(app: Flask, comment_id: int, status: str) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = status
        db.session.commit()


def sign_in_author(client: FlaskClient, author_id: int = 1) -> None:
    """Give ``client`` the session a sign-in as this author would."""
    with client.application.test_request_context():
        values = new_sign_in(db.session.get(Author, author_id))
        db.session.commit()
    with client.session_transaction() as session:
        session.update(values)


def stage_comment(
    post: Post, parent: Comment | None = None, status: str = "approved", **fields
) -> Comment:
    """Store a comment directly, threaded as the form would (caller commits)."""
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 1,
        status=status,
        author_name=fields.pop("author_name", "Lettore"),
        content=fields.pop("content", "ok"),
        content_html=fields.pop("content_html", "<p>ok</p>"),
        **fields,
    )
    db.session.add(comment)
    db.session.flush()
    # Top-level rows here carry their own id as thread id, as rows stored before
    # #12 do; the form leaves it NULL. The pages must read both.
    comment.thread_id = (parent.thread_id or parent.id) if parent else comment.id
    return comment


def stored_comment(app: Flask, comment_id: int) -> Comment:
    """The comment as stored now, detached so its fields read outside a context."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def statements_during(
    app: Flask, wanted: Callable[[str], bool], action: Callable[[], object]
) -> list[tuple[str, object]]:
    """The statements ``action`` runs that ``wanted`` picks, with their
    parameters (for asking the database how it runs them)."""
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if wanted(statement):
            seen.append((statement, parameters))

    def told(sender, statement: str, parameters=(), **_) -> None:
        # Run on the driver (the comment's INSERT and history on SQLite).
        if getattr(sender, "engine", None) is engine and wanted(statement):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    sql_outside_sqlalchemy.connect(told)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
        sql_outside_sqlalchemy.disconnect(told)
    return seen


def plan_of(app: Flask, statement: str, parameters) -> tuple[str, str]:
    """The backend's name and its plan for ``statement``. PostgreSQL is asked
    with sequential scans off: it would read a handful of rows whole, so the
    question is whether an index can serve the look-up at all."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "sqlite", " ".join(row[3] for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "postgresql", " ".join(row[0] for row in rows)


def sqlite_plan(app: Flask, statement: str, parameters) -> str:
    """SQLite's plan for ``statement``; the test is skipped on PostgreSQL,
    whose choice among usable indexes follows statistics that a test's few
    rows do not give (the indexes themselves are compared in tests/ops)."""
    backend, plan = plan_of(app, statement, parameters)
    if backend != "sqlite":
        pytest.skip("PostgreSQL's choice of index follows its statistics")
    return plan
