"""Database binding and the SQLite tuning a web server needs; SQLite's write
path (``writepath``)."""

from __future__ import annotations

import os
from collections.abc import Callable

import click
from flask import Flask
from sqlalchemy import Insert, String, Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.functions import GenericFunction

from ..extensions import db
from .writepath import (
    BUSY_TIMEOUT_MS,
    begin_sqlite_write,
    fetch_one_row,
    insert_row,
    sql_outside_sqlalchemy,
)

__all__ = [
    "begin_sqlite_write",
    "delete_row",
    "fetch_one_row",
    "free_slug",
    "init_app",
    "insert_or_ignore",
    "insert_row",
    "like_escaped",
    "lowercase",
    "normalised_database_url",
    "session_connection",
    "sql_outside_sqlalchemy",
    "upsert_for",
]


def normalised_database_url(url: str) -> str:
    """``url`` as SQLAlchemy reads it: Heroku-style ``postgres://`` and plain
    ``postgresql://`` go through psycopg (3), the driver this blog installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class DatabaseConfigError(click.ClickException):
    """The configured database URL names no database this blog can open: one
    line from the command line and from ``wsgi.py``, no traceback."""


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite database at ``url``; None for any other kind."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") or url.database.startswith("file:"):
        return None  # a URI filename: SQLite reads it, not the file system
    return url.database


def create_private_sqlite_file(url: URL) -> None:
    """A new SQLite database file made for its owner alone (0600, as backups
    are) before SQLite would make it with the umask's mode: readers' emails
    and addresses live there. SQLite gives its -wal and -shm the same mode;
    an existing file keeps the mode its operator gave it."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        pass  # there already, or a missing directory SQLite will name


# How long a statement waits for a lock another holds, on either database.
LOCK_TIMEOUT = "5s"


def init_app(app: Flask) -> None:
    """Bind SQLAlchemy to ``app``."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Test each pooled connection as it is taken: after a PostgreSQL restart a
    # worker's kept connections are dead, and without the ping the first request
    # on each would fail with a 500 instead of reconnecting. A SQLite file has
    # no server to lose: the ping would only be one more statement per request.
    url = str(app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    options.setdefault("pool_pre_ping", not url.startswith("sqlite"))
    if not url.startswith("sqlite"):
        # A threaded worker runs up to 32 requests, one at a time in the
        # interpreter: SQLAlchemy's 5 + 10 would let 12 workers ask PostgreSQL
        # for 180 connections (100 by default), where 5 + 2 serve as well.
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 2)
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            _bound_waits(options, parsed)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        create_private_sqlite_file(parsed)
        db.init_app(app)  # makes the engine: the URL is read here
    except (ArgumentError, ImportError) as error:
        raise DatabaseConfigError(
            f"DATABASE_URL (BLOG_DATABASE_URL, or instance/config.py) is not a "
            f"database this blog can use ({error}). "
            "Use sqlite:////path/to/blog.sqlite3 or "
            "postgresql://user:password@host/name."
        ) from error
    # On every engine of the process (the app's, the page cache's version
    # reader, a backup's): registered once, whichever app comes first.
    if not event.contains(Engine, "connect", _tune_sqlite):
        event.listen(Engine, "connect", _tune_sqlite)


def error_reason(error: SQLAlchemyError) -> str:
    """The first line of what the database driver said of ``error``: the
    reason, without SQLAlchemy's statement and parameters."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _bound_waits(options: dict, url: URL) -> None:
    # Nothing waits without end, as SQLite's busy timeout has it: a server
    # that does not answer, a table locked (VACUUM FULL, a migration) or a
    # pool with no free connection is a 503 after a few seconds, where every
    # page would hang until the worker was killed. An operator's own
    # SQLALCHEMY_ENGINE_OPTIONS, or ``?options=`` in the URL, come first.
    options.setdefault("pool_timeout", 10)
    connect_args = dict(options.get("connect_args") or {})
    if "connect_timeout" not in url.query:
        connect_args.setdefault("connect_timeout", 10)
    if "options" not in url.query:
        connect_args.setdefault("options", f"-c lock_timeout={LOCK_TIMEOUT}")
    options["connect_args"] = connect_args


def _tune_sqlite(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    # Only SQLite connections: WAL lets readers run beside a writer, the busy
    # timeout makes a second writer wait instead of failing, and SQLite leaves
    # foreign keys off unless asked.
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.create_function(
        _SQLITE_LOWERCASE, 1, _python_lowercase, deterministic=True
    )
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # LOCK_TIMEOUT
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class lowercase(GenericFunction):  # noqa: N801 (SQL function names are lower case)
    """``lower()`` of the text as Python lowers it, on every database.

    SQLite's own ``lower()`` folds ASCII letters only, so ``ÄNNA@Example.org``
    would not match ``änna@example.org`` typed in a request: on SQLite this is
    a Python function each connection is given (``_tune_sqlite``); PostgreSQL's
    ``lower()`` follows the database's Unicode locale.
    """

    type = String()
    inherit_cache = True


_SQLITE_LOWERCASE = "python_lower"


def _python_lowercase(value):
    return value.lower() if isinstance(value, str) else value


@compiles(lowercase)
def _lowercase(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(lowercase, "sqlite")
def _lowercase_on_sqlite(element, compiler, **kw):
    return f"{_SQLITE_LOWERCASE}({compiler.process(element.clauses, **kw)})"


def like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``escape="/"``: its % and _ taken
    literally."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def delete_row(model: type, row_id: int) -> bool:
    """Delete the ``model`` row with this id (the caller commits); whether there
    was one."""
    row = db.session.get(model, row_id)
    if row is None:
        return False
    db.session.delete(row)
    return True


# Room at the end of a slug as long as its column for the "-N" of a free one.
_NUMBER_ROOM = len("-999999999")


def free_slug(column: InstrumentedAttribute[str], base: str) -> str:
    """``base``, or ``base-2``, ``base-3``…: the first value ``column`` (a
    model's slug) holds in no row; a ``base`` as long as the column is cut to
    make room for the number (PostgreSQL refuses a longer value)."""
    width = column.type.length
    stem = base[: width - _NUMBER_ROOM]
    taken = set(db.session.scalars(select(column).where(column.like(f"{stem}%"))))
    slug, n = base, 2
    while slug in taken:
        number = f"-{n}"
        slug, n = base[: width - len(number)].rstrip("-") + number, n + 1
    return slug


# The dialects whose INSERT takes ON CONFLICT: the two the blog runs on.
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert_for(dialect: str) -> Callable[[Table], Insert]:
    """The ``insert`` of ``dialect`` that takes ``on_conflict_do_…``."""
    return _UPSERTS[dialect]


def insert_or_ignore(
    session: Session, table: Table, unique: str, /, **values: object
) -> Insert:
    """An INSERT of ``values`` for ``session`` that gives way to a row already
    holding the same ``unique`` column (another request's, committed a moment
    before) instead of failing."""
    dialect = session.get_bind().dialect.name
    return (
        upsert_for(dialect)(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[table.c[unique]])
    )


def session_connection() -> Connection:
    """The request session's connection, with its pending changes flushed first
    as the session's own ``execute`` would: a Core statement run on it skips
    the ORM's execute, which cost more than SQLite spends running a small one."""
    session = db.session()
    # The session's own rule (autoflush on, not already flushing, not inside
    # ``no_autoflush``), as its execute applies it.
    session._autoflush()
    return session.connection()


def session_holds_changes() -> bool:
    """Whether the request's session holds objects added, changed or deleted
    and not yet flushed: a read through it would see them before any commit."""
    session = db.session()
    return bool(session.new or session.dirty or session.deleted)


def session_is_untouched() -> bool:
    """Whether the request's session has begun no transaction and holds no
    object: what it would read is then what any connection reads, and a value
    kept with a version read elsewhere may stand in for the read."""
    return not (db.session().in_transaction() or session_holds_changes())


def database_hint(reason: str, url: str) -> str:
    """What to check, added to a database error's ``reason`` where the error
    does not say it: SQLite names neither the file it cannot open nor why."""
    if "unable to open database file" not in reason:
        return reason
    path = make_url(url).database
    return (
        f"{reason} ({path}): check that its folder exists and that the user "
        "running the blog may write to the file and its folder"
    )


def names_an_older_schema(reason: str) -> bool:
    """Whether a database error's ``reason`` is a table or a column the schema
    lacks (a database ``upgrade-db`` has not brought to this code's schema)."""
    if "no such table" in reason or "no such column" in reason:  # SQLite
        return True
    # PostgreSQL: relation "post" does not exist, column post.kind does not exist
    return "does not exist" in reason and ("relation" in reason or "column" in reason)
