"""The database binding: what each request costs the database, per backend."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from blog.database import session_connection
from blog.extensions import db
from blog.models import Setting


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
