"""`flask --app blog copy-db URL`: the blog's rows into another database, the
way from SQLite to PostgreSQL (and back), ids and threads kept."""

from __future__ import annotations

import sqlite3

import pytest
from helpers_admin import add_comment
from helpers_postgresql import new_database
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Comment
from blog.ops.schema import upgrade_database

POST_URL = "/chi-e-e-chi-non-e-il-community-manager/"


@pytest.fixture
def other_database(request, db_backend, tmp_path):
    """An empty database of the other backend: where the blog moves to."""
    other = "sqlite" if db_backend == "postgresql" else "postgresql"
    with new_database(request, other, tmp_path, "moved") as url:
        yield url


@pytest.fixture
def upgraded(make_app, other_database):
    """The other database with the blog's tables, as upgrade-db makes them."""
    target = make_app(DATABASE_URL=other_database)
    with target.app_context():
        upgrade_database()
        db.engine.dispose()
    return other_database


@pytest.fixture
def moved(make_app, upgraded):
    """The blog on the other database, once the rows are there."""
    moved = make_app(DATABASE_URL=upgraded)
    yield moved
    with moved.app_context():
        db.session.remove()
        db.engine.dispose()


def rows_by_table(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def test_every_row_moves_with_its_id_and_thread(app, runner, moved, upgraded):
    # A reply stored before its parent (an import can store them so): the
    # parent's id is the higher one.
    reply = add_comment(
        app, status="approved", content="Risposta", content_html="<p>Risposta</p>"
    )
    parent = add_comment(app, status="approved", content="Genitore")
    with app.app_context():
        stored = db.session.get(Comment, reply)
        stored.parent_id, stored.thread_id, stored.depth = parent, parent, 2
        db.session.commit()
        updated = stored.updated_at
    assert "Risposta" in app.test_client().get(POST_URL).get_data(as_text=True)
    result = runner.invoke(args=["copy-db", upgraded])
    assert result.exit_code == 0, result.output
    assert "Copied" in result.output
    assert rows_by_table(moved) == rows_by_table(app)
    with moved.app_context():
        copied = db.session.get(Comment, reply)
        assert (copied.parent_id, copied.thread_id, copied.content) == (
            parent,
            parent,
            "Risposta",
        )
        assert copied.updated_at == updated  # hung on its parent, not touched
        # The ids go on from the copied ones (PostgreSQL's sequences too).
        newest = db.session.scalar(select(func.max(Comment.id)))
        fresh = Comment(post_id=copied.post_id, content="Dopo il trasloco")
        db.session.add(fresh)
        db.session.commit()
        assert fresh.id > newest
    page = moved.test_client().get(POST_URL)
    assert page.status_code == 200
    assert "Risposta" in page.get_data(as_text=True)


def test_a_target_without_the_tables_is_refused(app, runner, other_database):
    result = runner.invoke(args=["copy-db", other_database])
    assert result.exit_code == 1
    assert "Nothing copied" in result.output
    assert "upgrade-db" in result.output


def test_a_target_holding_data_is_refused_and_left_alone(app, runner, moved, upgraded):
    assert runner.invoke(args=["copy-db", upgraded]).exit_code == 0
    before = rows_by_table(moved)
    add_comment(app, content="Un altro")
    result = runner.invoke(args=["copy-db", upgraded])
    assert result.exit_code == 1
    assert "already holds data" in result.output
    assert rows_by_table(moved) == before


def test_the_blogs_own_database_is_not_a_target(app, runner):
    with app.app_context():
        own = db.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(args=["copy-db", own])
    assert result.exit_code == 1
    assert "own database" in result.output


def test_a_missing_sqlite_file_is_refused_and_not_made(app, runner, tmp_path):
    missing = tmp_path / "non-esiste.sqlite3"
    result = runner.invoke(args=["copy-db", f"sqlite:///{missing}"])
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert not missing.exists()


@pytest.mark.backends("sqlite")
def test_a_row_the_target_refuses_is_named_and_nothing_is_copied(
    app, runner, moved, upgraded
):
    # An old SQLite file, written with foreign keys off, holds a comment of a
    # post that is gone: PostgreSQL refuses it. Running again would not help.
    comment_id = add_comment(app, content="Orfano")
    with app.app_context():
        path = db.engine.url.database
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("UPDATE comment SET post_id = 9999 WHERE id = ?", (comment_id,))
    raw.commit()
    raw.close()
    result = runner.invoke(args=["copy-db", upgraded])
    assert result.exit_code == 1
    assert "Nothing copied: a row of table comment is refused" in result.output
    assert "PRAGMA foreign_key_check" in result.output
    assert "run it again" not in result.output
    assert set(rows_by_table(moved).values()) == {0}
