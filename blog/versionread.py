"""Reads the content version on a database connection kept for that one read.

A cache hit needs nothing from the database but the content version. Checking a
connection out of SQLAlchemy's pool and back in for it costs more than the
whole rest of the hit, so each thread keeps one plain DBAPI connection, opened
through the engine (the same URL and connect hooks) and then detached from its
pool. It runs in autocommit, so it never holds a transaction or a lock between
requests: a TRUNCATE, a migration or a backup does not wait for it.

The connections are closed when the engine is disposed. A forked worker opens
its own: a handle inherited from the parent is left alone, as closing it would
act on the parent's.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .signals import sql_outside_sqlalchemy

VERSION_SQL = "SELECT value FROM setting WHERE key = 'content_version'"


class ContentVersionReader:
    """``read()`` the stored content version; None when the database cannot say."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[tuple[int, object]] = []
        event.listen(engine, "engine_disposed", self._close_all)

    def read(self) -> str | None:
        """The version string ("" before the first change), or None on error."""
        try:
            connection = self._connection()
            cursor = connection.cursor()
            try:
                cursor.execute(VERSION_SQL)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception:  # the caller lets Flask answer, and report, the error
            self._forget_current()
            return None
        sql_outside_sqlalchemy.send(self, statement=VERSION_SQL)
        return (row[0] if row else None) or ""

    def _connection(self):
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            self._local.pid = pid
            self._local.connection = None
        if self._local.connection is None:
            self._local.connection = self._open()
            with self._lock:
                self._opened.append((pid, self._local.connection))
        return self._local.connection

    def _open(self):
        pooled = self.engine.raw_connection()
        pooled.detach()  # ours now: the pool neither reuses nor resets it
        connection = pooled.dbapi_connection
        connection.rollback()  # a driver refuses autocommit inside a transaction
        if hasattr(connection, "autocommit"):  # psycopg, pg8000, sqlite3 >= 3.12
            connection.autocommit = True
        return connection

    def _forget_current(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with self._lock:
                self._opened = [
                    item for item in self._opened if item[1] is not connection
                ]
            _close_quietly(connection)

    def _close_all(self, engine: Engine | None = None) -> None:  # noqa: ARG002
        pid = os.getpid()
        with self._lock:
            mine = [connection for owner, connection in self._opened if owner == pid]
            self._opened = [item for item in self._opened if item[0] != pid]
        for connection in mine:
            _close_quietly(connection)
        self._local = threading.local()


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # a connection that broke is closed already
        pass
