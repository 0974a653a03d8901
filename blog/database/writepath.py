"""SQLite's write path for a comment: the write lock taken with quick retries,
and the comment's INSERT and sender's history run on the driver."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from blinker import Signal
from sqlalchemy import ColumnDefault, Executable, Insert, Select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound

# sender: whoever ran it (its ``engine`` is the app's); kwargs: statement, and
# parameters when it has any. SQL run on a plain DBAPI connection, which
# SQLAlchemy's events do not see (the page cache's version read, the write
# lock's statements, the driver path below), so that query counts stay
# complete.
sql_outside_sqlalchemy = Signal("sql-outside-sqlalchemy")

BUSY_TIMEOUT_MS = 5000  # LOCK_TIMEOUT, as SQLite's busy_timeout takes it

# How long ``begin_sqlite_write`` asks for the write lock (LOCK_TIMEOUT, as
# the busy timeout would wait), and its first and longest pause (seconds).
WRITE_LOCK_SECONDS = BUSY_TIMEOUT_MS / 1000
_FIRST_PAUSE = 0.00005
_LONGEST_PAUSE = 0.001


def begin_sqlite_write(connection: Connection) -> None:
    """On SQLite, begin ``connection``'s transaction holding the write lock
    (``BEGIN IMMEDIATE``), asking again every fraction of a millisecond while
    another writer holds it; elsewhere, or once the transaction writes, nothing.

    The busy handler that ``busy_timeout`` installs sleeps a whole millisecond
    first (then 2, 5, 10 …), while a comment holds the lock for about a fifth of
    one: two workers storing comments met in about one INSERT in ten, and each
    meeting left a worker asleep well after the lock was free. Locked past
    WRITE_LOCK_SECONDS, or failing otherwise, it raises SQLAlchemy's error, as
    the INSERT would have (a 503 for the request). Other writers (the admin,
    the mail job) still wait in the busy handler: they are rare beside a wave
    of comments, which holds the lock a fraction of the time.
    """
    driver = connection.connection.driver_connection
    if not (
        isinstance(driver, sqlite3.Connection)
        # An autocommit connection would keep the INSERT in an open transaction.
        and driver.isolation_level is not None
        and not driver.in_transaction  # holding the lock, or asking with a write
    ):
        return
    try:
        _run_on_driver(connection, "PRAGMA busy_timeout=0")  # busy answers at once
    except sqlite3.Error:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # its error, as SQLAlchemy's
        return
    try:
        _ask_for_write_lock(connection)
    finally:
        _run_on_driver(connection, f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


# Another writer holds the lock (or a crashed one's is being recovered); any
# other error, SQLITE_BUSY_SNAPSHOT among them, will not pass by asking again.
_LOCK_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_RECOVERY)


def _ask_for_write_lock(connection: Connection) -> None:
    pause = _FIRST_PAUSE
    deadline = time.monotonic() + WRITE_LOCK_SECONDS
    while time.monotonic() < deadline:
        try:
            _run_on_driver(connection, "BEGIN IMMEDIATE")
            return
        except sqlite3.Error as error:
            if getattr(error, "sqlite_errorcode", None) not in _LOCK_BUSY:
                break
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
    # Locked past the timeout, or failing otherwise: asked once more through
    # SQLAlchemy, whose error the app answers as any database error's.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _run_on_driver(
    connection: Connection, statement: str, params: tuple = ()
) -> sqlite3.Cursor:
    # Past SQLAlchemy (which would begin its own transaction, retry nothing,
    # and cost more than SQLite's work); announced once run, so that the
    # statements of a request are counted whole.
    cursor = connection.connection.driver_connection.execute(statement, params)
    sql_outside_sqlalchemy.send(connection, statement=statement, parameters=params)
    return cursor


# The hottest statements on SQLite (a comment's INSERT and its sender's
# history) run on the driver, compiled once by SQLAlchemy: its execution
# around the driver cost a held comment about 160 µs of 1.8 ms, more than
# SQLite spends running both. Types and errors are SQLAlchemy's own: each
# value goes through the processors SQLAlchemy would apply, and a driver error
# comes out as SQLAlchemy's exception (IntegrityError, …). SQLAlchemy's echo
# log does not show these two statements; ``sql_outside_sqlalchemy`` tells of
# them once they have run.


@dataclass(frozen=True)
class _DriverPlan:
    sql: str
    keys: tuple[str, ...]
    bind: tuple[Callable | None, ...]
    fixed: dict[str, object]  # literal values the statement binds itself
    defaults: dict[str, ColumnDefault]  # an INSERT's columns left to defaults
    result: tuple[Callable | None, ...]


# Per statement (weakly: a statement cache that drops one drops its plans),
# then per dialect and set of values given; None: run by SQLAlchemy.
_PLANS: WeakKeyDictionary = WeakKeyDictionary()


def _plan(
    connection: Connection, statement: Executable, keys: frozenset[str]
) -> _DriverPlan | None:
    plans = _PLANS.get(statement)
    if plans is None:
        plans = _PLANS[statement] = {}
    dialect = connection.dialect
    try:
        return plans[(dialect, keys)]
    except KeyError:
        plan = plans[(dialect, keys)] = _new_plan(dialect, statement, keys)
        return plan


def _new_plan(
    dialect, statement: Executable, keys: frozenset[str]
) -> _DriverPlan | None:
    is_insert = isinstance(statement, Insert)
    compiled = statement.compile(
        dialect=dialect, column_keys=sorted(keys) if is_insert else None
    )
    if not compiled.positional or compiled.post_compile_params:
        return None  # a paramstyle or an IN list SQLAlchemy renders per call
    order = tuple(compiled.positiontup or ())
    binds = [compiled.binds[key] for key in order]
    defaults = {}
    if is_insert:
        columns = statement.table.c
        defaults = {
            key: columns[key].default
            for key in order
            if key not in keys and columns[key].default is not None
        }
    if any(bind.callable is not None for bind in binds) or any(
        # Only scalars and zero-argument functions, which SQLAlchemy wraps.
        not (default.is_scalar or hasattr(default.arg, "__wrapped__"))
        for default in defaults.values()
    ):
        return None
    return _DriverPlan(
        sql=str(compiled),
        keys=order,
        bind=tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds),
        fixed={
            name: bind.effective_value
            for name, bind in zip(order, binds, strict=True)
            if name not in keys and name not in defaults and not bind.required
        },
        defaults=defaults,
        result=tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None)
            for c in (statement.selected_columns if not is_insert else ())
        ),
    )


def _execute_on_driver(
    connection: Connection, plan: _DriverPlan, values: dict
) -> sqlite3.Cursor:
    params = tuple(
        process(values[key]) if process else values[key]
        for key, process in zip(plan.keys, plan.bind, strict=True)
    )
    try:
        return _run_on_driver(connection, plan.sql, params)
    except sqlite3.Error as error:
        raise DBAPIError.instance(
            plan.sql,
            params,
            error,
            sqlite3.Error,
            hide_parameters=connection.engine.hide_parameters,
            dialect=connection.dialect,
        ) from error


def _driver_plan(
    connection: Connection, statement: Executable, values: dict
) -> _DriverPlan | None:
    if not isinstance(connection.connection.driver_connection, sqlite3.Connection):
        return None
    return _plan(connection, statement, frozenset(values))


def fetch_one_row(connection: Connection, statement: Select, values: dict) -> Sequence:
    """The one row ``statement`` gives with ``values``, as
    ``connection.execute(statement, values).one()`` would give it."""
    plan = _driver_plan(connection, statement, values)
    if plan is None:
        return connection.execute(statement, values).one()
    rows = _execute_on_driver(connection, plan, {**plan.fixed, **values}).fetchall()
    if len(rows) != 1:
        raise (MultipleResultsFound if rows else NoResultFound)(
            f"{len(rows)} rows where one was required"
        )
    processed = zip(plan.result, rows[0], strict=True)
    return tuple(process(value) if process else value for process, value in processed)


def insert_row(
    connection: Connection, insert: Insert, values: dict
) -> tuple[int, dict[str, object]]:
    """Run ``insert`` with ``values``: the new row's id and every value it was
    given, the columns' defaults included (as SQLAlchemy's
    ``inserted_primary_key`` and ``last_inserted_params()``)."""
    plan = _driver_plan(connection, insert, values)
    if plan is None:
        result = connection.execute(insert, values)
        return result.inserted_primary_key[0], result.last_inserted_params()
    given = {**plan.fixed, **values}
    for key, default in plan.defaults.items():
        given[key] = default.arg(None) if default.is_callable else default.arg
    return _execute_on_driver(connection, plan, given).lastrowid, given
