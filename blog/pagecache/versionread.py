"""Reads the content version on a database connection kept for that one read.

A cache hit needs nothing from the database but the content version. Checking a
connection out of SQLAlchemy's pool and back in for it costs more than the
whole rest of the hit, so each thread keeps one plain DBAPI connection, opened
through the engine (the same URL and connect hooks) and then detached from its
pool. It runs in autocommit, so it never holds a transaction or a lock between
requests: a TRUNCATE, a migration or a backup does not wait for it.

A thread's connection is closed when the thread ends (servers such as
``flask run`` start a thread per connection) and all of them when the engine is
disposed. A forked worker opens its own and never closes one inherited from the
parent: for SQLite, closing it could checkpoint or remove the write-ahead log
the parent is using.

An engine whose pool holds a single connection (an in-memory SQLite database)
cannot spare one, so there each read borrows the pool's connection instead.
"""

from __future__ import annotations

import os
import threading
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from ..core.settings import CONTENT_VERSION_KEY
from ..core.signals import sql_outside_sqlalchemy

VERSION_SQL = f"SELECT value FROM setting WHERE key = '{CONTENT_VERSION_KEY}'"
# Connections inherited through fork: kept referenced, so never closed here.
_INHERITED: list[object] = []


class _KeptConnection:
    """One thread's connection; closing follows this holder's lifetime."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.pid = os.getpid()
        weakref.finalize(self, _close_if_ours, connection, self.pid)


class ContentVersionReader:
    """``read()`` the stored content version; None when the database cannot say."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._shares_one_connection = isinstance(
            engine.pool, StaticPool | SingletonThreadPool
        )
        self._local = threading.local()
        self._kept: weakref.WeakSet[_KeptConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self._close_all)

    def read(self) -> str | None:
        """The version string ("" before the first change), or None on error."""
        try:
            if self._shares_one_connection:
                with self.engine.connect() as connection:
                    row = connection.exec_driver_sql(VERSION_SQL).first()
            else:
                row = self._read_on_kept_connection()
        except Exception:  # the caller lets Flask answer, and report, the error
            self._drop_current()
            return None
        if not self._shares_one_connection:  # SQLAlchemy's events saw the other
            sql_outside_sqlalchemy.send(self, statement=VERSION_SQL)
        return (row[0] if row else None) or ""

    def _read_on_kept_connection(self):
        cursor = self._kept_connection().cursor()
        try:
            cursor.execute(VERSION_SQL)
            return cursor.fetchone()
        finally:
            cursor.close()

    def _kept_connection(self):
        kept = getattr(self._local, "kept", None)
        if kept is None or kept.pid != os.getpid():
            kept = _KeptConnection(self._open())
            self._local.kept = kept
            with self._lock:
                self._kept.add(kept)
        return kept.connection

    def _open(self):
        pooled = self.engine.raw_connection()
        pooled.detach()  # ours now: the pool neither reuses nor resets it
        connection = pooled.dbapi_connection
        connection.rollback()  # a driver refuses autocommit inside a transaction
        if hasattr(connection, "autocommit"):  # psycopg, pg8000, sqlite3 >= 3.12
            connection.autocommit = True
        return connection

    def _drop_current(self) -> None:
        kept = getattr(self._local, "kept", None)
        self._local.kept = None
        if kept is not None:
            _close_if_ours(kept.connection, kept.pid)

    def _close_all(self, engine: Engine | None = None) -> None:  # noqa: ARG002
        with self._lock:
            kept = list(self._kept)
            self._kept.clear()
        for item in kept:
            _close_if_ours(item.connection, item.pid)
        self._local = threading.local()


def _close_if_ours(connection, pid: int) -> None:
    if os.getpid() != pid:
        _INHERITED.append(connection)
        return
    try:
        connection.close()
    except Exception:  # a connection that broke is closed already
        pass
