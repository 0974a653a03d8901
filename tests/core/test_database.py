"""The database binding: what each request costs the database, per backend."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from helpers_comments import send_comment
from sqlalchemy import event, select

from blog import database
from blog.database import begin_sqlite_write, session_connection
from blog.extensions import db
from blog.models import Comment, Setting


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
def write_lock_held_elsewhere(database_url: str, seconds: float):
    """Another process's writer: it holds the write lock, stores a setting, and
    commits ``seconds`` after the block begins (or at its end)."""
    holder = sqlite3.connect(
        database_url.removeprefix("sqlite:///"),
        isolation_level=None,
        check_same_thread=False,
    )
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO setting (key, value) VALUES ('other_writer', 'x')")
    release = threading.Timer(seconds, holder.execute, ("COMMIT",))
    release.start()
    try:
        yield
    finally:
        release.join()
        holder.close()


def other_writer_committed(connection) -> bool:
    return (
        connection.execute(
            select(Setting.value).where(Setting.key == "other_writer")
        ).scalar_one_or_none()
        == "x"
    )


@pytest.mark.backends("sqlite")
def test_a_writer_waits_for_the_lock_and_holds_it_once_free(app, database_url):
    with app.app_context():
        connection = db.session.connection()
        driver = connection.connection.driver_connection
        with write_lock_held_elsewhere(database_url, 0.2):
            begin_sqlite_write(connection)
            assert driver.in_transaction  # the lock is this connection's now
            # …taken after the other writer's commit, which it reads.
            assert other_writer_committed(connection)
        assert driver.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        db.session.rollback()


@pytest.mark.backends("sqlite")
def test_past_its_retries_a_comment_waits_in_sqlites_busy_handler(
    app, client, database_url, monkeypatch
):
    monkeypatch.setattr(database, "WRITE_LOCK_RETRY_SECONDS", 0)
    with write_lock_held_elsewhere(database_url, 0.3):
        response = send_comment(client, app, "Arrivato dopo l'altro scrittore.")
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalar(
            select(Comment).where(Comment.content == "Arrivato dopo l'altro scrittore.")
        )
        assert stored is not None and stored.status == "pending"
        driver = db.session.connection().connection.driver_connection
        assert driver.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


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
