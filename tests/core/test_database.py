"""The database binding: what each request costs the database, per backend."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from helpers_comments import filled_form
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from blog.comments.operations import NewResponse, add_response
from blog.comments.submission import _history_statement, _HistoryShape
from blog.database import (
    begin_sqlite_write,
    fetch_one_row,
    insert_row,
    session_connection,
    sql_outside_sqlalchemy,
    writepath,
)
from blog.extensions import db
from blog.models import Block, Comment, Post, Setting, utcnow


def statements_the_driver_ran(app, client, url: str) -> list[str]:
    """Every statement SQLite ran for three requests to ``url``, pings
    included: SQLAlchemy's own events do not see the pool's ping."""
    seen: list[str] = []

    def watch(dbapi_connection, record):  # noqa: ARG001
        dbapi_connection.set_trace_callback(seen.append)

    with app.app_context():
        engine = db.engine
    engine.dispose()  # new connections, each one watched from the start
    event.listen(engine, "connect", watch)
    try:
        for _ in range(3):
            assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "connect", watch)
    return seen


@pytest.mark.backends("sqlite")
def test_a_sqlite_request_runs_no_ping_before_its_queries(app, client):
    statements = statements_the_driver_ran(app, client, "/comments/feed/")
    assert statements  # the feed was read from the database
    assert not [s for s in statements if s.strip().upper() == "SELECT 1"]


@pytest.mark.backends("postgresql")
def test_a_postgresql_connection_is_tested_as_it_is_taken(app):
    # After a server restart a kept connection is dead: the ping replaces it.
    with app.app_context():
        assert db.engine.pool._pre_ping


def test_a_read_on_the_sessions_connection_sees_what_is_not_yet_committed(app):
    # The settings and the comment form's history are read with Core statements
    # on the session's connection: like the session's own execute, it flushes
    # what is pending first, unless the session says not to.
    asked = select(Setting.value).where(Setting.key == "prova")
    with app.app_context():
        db.session.add(Setting(key="prova", value="1"))
        with db.session.no_autoflush:
            assert session_connection().execute(asked).all() == []
        assert session_connection().execute(asked).all() == [("1",)]
        db.session.rollback()


# Storing a response takes SQLite's write lock itself (``begin_sqlite_write``),
# asking again every fraction of a millisecond, where SQLite's busy handler
# would sleep a whole one first.


@contextmanager
def write_lock_held_elsewhere(database_url: str, release_after: float | None = None):
    """Another process's writer: it holds the write lock and stores a setting,
    then commits ``release_after`` seconds into the block, or at its end."""
    holder = sqlite3.connect(
        database_url.removeprefix("sqlite:///"),
        isolation_level=None,
        check_same_thread=False,
    )
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO setting (key, value) VALUES ('other_writer', 'x')")
    release = None
    if release_after is not None:
        release = threading.Timer(release_after, holder.execute, ("COMMIT",))
        release.start()
    try:
        yield
    finally:
        if release is not None:
            release.join()
        else:
            holder.execute("COMMIT")
        holder.close()


def lock_is_free(database_url: str) -> bool:
    """Whether another connection may take the write lock at once."""
    other = sqlite3.connect(
        database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None
    )
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def busy_timeout(connection) -> int:
    driver = connection.connection.driver_connection
    return driver.execute("PRAGMA busy_timeout").fetchone()[0]


@pytest.mark.backends("sqlite")
def test_a_writer_waits_for_the_lock_and_holds_it_once_free(app, database_url):
    with app.app_context():
        connection = db.session.connection()
        with write_lock_held_elsewhere(database_url, release_after=0.2):
            begin_sqlite_write(connection)
            # The lock is this connection's now, taken after the other
            # writer's commit, which it reads.
            assert not lock_is_free(database_url)
            assert db.session.get(Setting, "other_writer") is not None
        assert busy_timeout(connection) == 5000
        db.session.rollback()
        assert lock_is_free(database_url)


@pytest.mark.backends("sqlite")
def test_locked_past_the_timeout_a_comment_gets_the_form_back_with_503(
    app, client, database_url, monkeypatch, count_queries
):
    monkeypatch.setattr(writepath, "WRITE_LOCK_SECONDS", 0)
    action, data = filled_form(client, app, "Arrivato mentre era tutto bloccato.")
    with write_lock_held_elsewhere(database_url), count_queries() as counter:
        response = client.post(action, data=data)
        assert response.status_code == 503
    # Refused by the lock itself, at once: the INSERT never waited for it.
    assert counter.statements[-2:] == ["BEGIN IMMEDIATE", "PRAGMA busy_timeout=5000"]
    assert not [s for s in counter.statements if "INSERT INTO comment" in s]
    assert "Arrivato mentre era tutto bloccato." in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalar(
            select(Comment).where(Comment.content.startswith("Arrivato mentre"))
        )
        # The pool holds the one connection the request used, as it left it.
        assert busy_timeout(db.session.connection()) == 5000


@pytest.mark.backends("sqlite")
def test_a_failed_insert_gives_the_lock_back(app, database_url):
    source = "http://127.0.0.1:9/fonte"
    with app.app_context():
        post = db.session.scalar(select(Post).order_by(Post.id))
        pingback = NewResponse(
            content="Una fonte", type="pingback", source_url=source, status="approved"
        )
        add_response(post, pingback)
        with pytest.raises(IntegrityError):
            add_response(post, pingback)
        assert lock_is_free(database_url)


@pytest.mark.backends("sqlite")
def test_a_transaction_that_writes_already_is_left_as_it_is(app, count_queries):
    with app.app_context():
        db.session.add(Setting(key="first_write", value="x"))
        db.session.flush()  # pysqlite has begun the transaction with this write
        connection = db.session.connection()
        with count_queries() as counter:
            begin_sqlite_write(connection)
        assert counter.statements == []
        db.session.rollback()


@pytest.mark.backends("postgresql")
def test_postgresql_writers_take_no_sqlite_lock(app, count_queries):
    with app.app_context():
        connection = db.session.connection()
        with count_queries() as counter:
            begin_sqlite_write(connection)
        assert counter.statements == []
        db.session.rollback()


# A comment's INSERT and its sender's history run on SQLite's driver, compiled
# by SQLAlchemy: the rows and values are SQLAlchemy's own.


@contextmanager
def statements_by_route(app):
    """The statements run through SQLAlchemy's execution and those run on the
    driver and told (``sql_outside_sqlalchemy``), in two lists."""
    through, told = [], []
    with app.app_context():
        engine = db.engine

    def seen(conn, cursor, statement, *args):
        through.append(statement)

    def heard(sender, statement, **_):
        told.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    sql_outside_sqlalchemy.connect(heard)
    try:
        yield through, told
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        sql_outside_sqlalchemy.disconnect(heard)


@pytest.mark.backends("sqlite")
def test_a_row_inserted_on_the_driver_is_the_row_sqlalchemy_inserts(app):
    table = Comment.__table__
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).order_by(Post.id))
        when = datetime(2011, 11, 30, 9, 15, 30, 123456)
        values = {
            "post_id": post_id,
            "content": "Due strade",
            "author_name": "Lucia",
            "created_at": when,
            "parent_id": None,
        }
        connection = db.session.connection()
        before = utcnow()
        with statements_by_route(app) as (through, told):
            by_driver, given = insert_row(connection, table.insert(), values)
        assert [s.split(" (")[0] for s in told] == ["INSERT INTO comment"]
        assert through == []
        assert before <= given["updated_at"] <= utcnow()  # a default, filled
        by_sqlalchemy = connection.execute(table.insert(), values)
        assert given == by_sqlalchemy.last_inserted_params() | {
            "updated_at": given["updated_at"]
        }
        rows = {
            row.id: row._asdict()
            for row in connection.execute(
                select(table).where(
                    table.c.id.in_([by_driver, by_sqlalchemy.inserted_primary_key[0]])
                )
            )
        }
        driver_row = rows.pop(by_driver)
        sqlalchemy_row = rows.pop(by_sqlalchemy.inserted_primary_key[0])
        for row in (driver_row, sqlalchemy_row):
            del row["id"], row["updated_at"]  # updated_at: utcnow at each insert
        assert driver_row == sqlalchemy_row
        assert driver_row["created_at"] == when and driver_row["notice_due"] is False
        assert driver_row["depth"] == 1 and driver_row["status"] == "pending"
        db.session.rollback()


@pytest.mark.backends("sqlite")
def test_a_driver_error_is_sqlalchemys_exception(app):
    table = Comment.__table__
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).order_by(Post.id))
        values = {"post_id": post_id, "content": "Una", "source_url": "http://x/1"}
        connection = db.session.connection()
        insert_row(connection, table.insert(), values)
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
            insert_row(connection, table.insert(), values)
        db.session.rollback()


SHAPES = [
    _HistoryShape(False, False, (), False, ()),
    _HistoryShape(True, False, ("author_ip", "author_email"), True, ()),
    _HistoryShape(True, False, ("author_ip",), False, ("email", "ip", "mailhost")),
    _HistoryShape(False, True, (), True, ("domain",)),
]


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("shape", SHAPES)
def test_a_senders_history_read_on_the_driver_is_sqlalchemys_row(app, shape):
    with app.app_context():
        post = db.session.scalar(select(Post).order_by(Post.id))
        for status in ("approved", "spam"):
            add_response(
                post,
                NewResponse(
                    content="Già detto",
                    author_name="Lucia",
                    author_email="lucia@example.org",
                    author_ip="192.0.2.7",
                    owner_token_hash="f" * 64,
                    status=status,
                ),
            )
        db.session.add(Block(kind="email", value="lucia@example.org"))
        db.session.commit()
        values = {
            "post_id": post.id,
            "parent_id": None,
            "content": "Già detto",
            "name": "Lucia",
            "email": "lucia@example.org",
            "author_id": None,
            "author_ip": "192.0.2.7",
            "author_email": "lucia@example.org",
            "owner_hash": "f" * 64,
            "pace_until": utcnow() + timedelta(minutes=5),
            **{
                f"block_{n}": "lucia@example.org" for n in range(len(shape.block_kinds))
            },
        }
        statement = _history_statement(shape)
        connection = db.session.connection()
        with statements_by_route(app) as (through, told):
            row = fetch_one_row(connection, statement, values)
        assert len(told) == 1 and through == []
        assert row == tuple(connection.execute(statement, values).one())
        assert any(isinstance(value, datetime) for value in row) == bool(shape.pace)
