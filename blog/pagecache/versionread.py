"""Reads the content version on database connections kept for that one read.

A cache hit needs nothing from the database but the content version. Checking a
connection out of SQLAlchemy's pool and back in for it costs more than the
whole rest of the hit, so each process keeps a few plain DBAPI connections,
opened through the engine (the same URL and connect hooks) and then detached
from its pool, and lends one to each read. They run in autocommit, so they
never hold a transaction or a lock between requests: a TRUNCATE, a migration
or a backup does not wait for them.

At most KEPT_CONNECTIONS per process, however many threads the server runs: a
read takes a fraction of a millisecond and the interpreter runs one thread at
a time, so a few serve 32 threads, and PostgreSQL's connection limit is not
spent on threads that are asleep. All are closed when the engine is disposed.
A forked worker opens its own and never closes one inherited from the parent:
for SQLite, closing it could checkpoint or remove the write-ahead log the
parent is using.

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
from ..database import sql_outside_sqlalchemy

VERSION_SQL = f"SELECT value FROM setting WHERE key = '{CONTENT_VERSION_KEY}'"
# Connections inherited through fork: kept referenced, so never closed here.
_INHERITED: list[object] = []


KEPT_CONNECTIONS = 4
# A read that finds every kept connection lent this long lets Flask answer
# (through its own pool) instead of waiting on a connection that may hang.
BORROW_TIMEOUT = 2.0


class ContentVersionReader:
    """``read()`` the stored content version; None when the database cannot say."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._shares_one_connection = isinstance(
            engine.pool, StaticPool | SingletonThreadPool
        )
        self._lent = threading.Condition(threading.Lock())
        self._free: list[object] = []
        self._open_count = 0  # free and lent, in this process
        self._pid = os.getpid()
        self._generation = 0  # moved on by a disposal: older lent ones are closed
        event.listen(engine, "engine_disposed", self._close_all)
        # A fork while another thread held the lock would leave the child's
        # locked for good: each child starts with its own, and none lent.
        reader = weakref.ref(self)
        os.register_at_fork(
            after_in_child=lambda: (kept := reader()) and kept._start_in_child()
        )

    def read(self) -> str | None:
        """The version string ("" before the first change), or None on error."""
        if self._shares_one_connection:
            try:
                with self.engine.connect() as connection:
                    row = connection.exec_driver_sql(VERSION_SQL).first()
            except Exception:  # the caller lets Flask answer, and report, it
                return None
            return _version_of(row)
        try:
            connection, generation = self._borrow()
        except Exception:
            return None
        broken = True
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(VERSION_SQL)
                row = cursor.fetchone()
            finally:
                cursor.close()
            broken = False
        except Exception:  # a lost connection: closed, and the next read opens one
            return None
        finally:
            self._give_back(connection, generation, broken)
        # SQLAlchemy's events see every other statement; this one is told.
        sql_outside_sqlalchemy.send(self, statement=VERSION_SQL)
        return _version_of(row)

    def _borrow(self) -> tuple[object, int]:
        with self._lent:
            if not self._lent.wait_for(self._may_borrow, BORROW_TIMEOUT):
                raise TimeoutError("every kept connection is lent")
            if self._free:
                return self._free.pop(), self._generation
            self._open_count += 1
            generation = self._generation
        try:
            return self._open(), generation
        except Exception:
            with self._lent:
                self._open_count -= 1
                self._lent.notify()
            raise

    def _may_borrow(self) -> bool:
        return bool(self._free) or self._open_count < KEPT_CONNECTIONS

    def _give_back(self, connection, generation: int, broken: bool = False) -> None:
        with self._lent:
            if os.getpid() != self._pid:  # lent before a fork: the parent's
                _INHERITED.append(connection)
                return
            if broken or generation != self._generation:
                self._open_count -= 1
                self._lent.notify()
                close = True
            else:
                self._free.append(connection)
                self._lent.notify()
                close = False
        if close:
            _close_quietly(connection)

    def _start_in_child(self) -> None:
        # The parent's connections stay referenced, never closed, never used.
        _INHERITED.extend(self._free)
        self._lent = threading.Condition(threading.Lock())
        self._free = []
        self._open_count = 0
        self._pid = os.getpid()

    def _open(self):
        pooled = self.engine.raw_connection()
        pooled.detach()  # ours now: the pool neither reuses nor resets it
        connection = pooled.dbapi_connection
        try:
            connection.rollback()  # a driver refuses autocommit in a transaction
            if hasattr(connection, "autocommit"):  # psycopg, sqlite3 >= 3.12
                connection.autocommit = True
        except Exception:
            _close_quietly(connection)
            raise
        return connection

    def _close_all(self, engine: Engine | None = None) -> None:  # noqa: ARG002
        with self._lent:
            free, self._free = self._free, []
            self._open_count -= len(free)
            self._generation += 1
        for connection in free:
            _close_quietly(connection)


def _version_of(row) -> str:
    # No row yet: a database no commit has versioned.
    return (row[0] if row else None) or ""


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # a connection that broke is closed already
        pass
