"""Copying the blog's database into another: the way from SQLite to PostgreSQL.

The target is made by ``upgrade-db`` (the same code, so the same schema) and
holds nothing yet; every row of every table goes across in one transaction of
the target, so a copy that fails leaves it empty. Ids are kept, so every
link, permalink and mail token still names the same post and comment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, Table, bindparam, create_engine, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)

from ..database import error_reason, normalised_database_url
from ..extensions import db

BATCH = 1000  # rows per INSERT


class CopyError(Exception):
    """Why the copy was not made (nothing was written)."""


def copy_database(source: Engine, target_url: str) -> dict[str, int]:
    """Copy every row of ``source`` into the empty database at ``target_url``;
    the rows copied, by table."""
    try:
        target = create_engine(normalised_database_url(target_url))
    except (SQLAlchemyError, ImportError) as error:
        raise CopyError(f"the target URL names no usable database ({error})") from error
    if target.url == source.url:
        raise CopyError("the target is this blog's own database")
    if target.url.get_backend_name() == "sqlite" and not _sqlite_file_exists(target):
        # Connecting would make an empty file: refused before, nothing written.
        target.dispose()
        raise CopyError(
            f"there is no database at {target.url.database}: make it with "
            "BLOG_DATABASE_URL=<target> .venv/bin/flask --app blog upgrade-db first"
        )
    tables = db.metadata.sorted_tables
    try:
        with source.connect() as reading, _writing(target) as writing:
            _check_ready(writing, tables)
            counts = {}
            for table in tables:
                try:
                    counts[table.name] = _copy_rows(reading, writing, table)
                except (IntegrityError, DataError) as error:  # all rolled back
                    raise CopyError(_refused_row(table, error)) from error
            if writing.dialect.name == "postgresql":
                for table in tables:
                    _restart_ids(writing, table)
    finally:
        target.dispose()
    return counts


def _refused_row(table: Table, error: DBAPIError) -> str:
    """What to tell of a source row the target refuses: its table, the
    target's words, and how to find it (running again would not help)."""
    reason = error_reason(error)
    if isinstance(error, IntegrityError) and "foreign key" in reason.lower():
        # Written by an old release, or by hand, with SQLite's checks off.
        hint = (
            "a row points to one that is not there: list such rows with "
            "sqlite3 <file> 'PRAGMA foreign_key_check', delete them, then copy again"
        )
    else:
        hint = "correct or delete that row in this blog, then copy again"
    return f"a row of table {table.name} is refused by the target ({reason}): {hint}"


def _sqlite_file_exists(engine: Engine) -> bool:
    name = engine.url.database or ""
    return name not in ("", ":memory:") and os.path.exists(name)


@contextmanager
def _writing(target: Engine) -> Iterator[Connection]:
    try:
        connection = target.connect()
    except OperationalError as error:
        reason = error_reason(error)
        raise CopyError(f"the target cannot be reached ({reason})") from error
    with connection, connection.begin():
        yield connection


def _check_ready(target: Connection, tables: list[Table]) -> None:
    found = inspect(target)
    for table in tables:
        if not found.has_table(table.name):
            raise CopyError(
                f"the target has no table {table.name}: make it with "
                "BLOG_DATABASE_URL=<target> .venv/bin/flask --app blog upgrade-db first"
            )
        columns = {column["name"] for column in found.get_columns(table.name)}
        missing = sorted(set(table.columns.keys()) - columns)
        if missing:
            raise CopyError(
                f"the target's table {table.name} lacks {', '.join(missing)}: "
                "bring it to this version with upgrade-db first"
            )
    for table in tables:
        if target.execute(select(func.count()).select_from(table)).scalar():
            raise CopyError(
                f"the target already holds data (table {table.name}): copy into a "
                "new, empty database"
            )


def _copy_rows(source: Connection, target: Connection, table: Table) -> int:
    # A column naming a row of its own table (a reply's parent) is filled in
    # once every row is there, whatever order the rows come in.
    own = [
        column.name
        for column in table.columns
        if any(key.column.table is table for key in column.foreign_keys)
    ]
    # Columns an UPDATE would stamp (a comment's updated_at) keep their value.
    stamped = [column.name for column in table.columns if column.onupdate is not None]
    copied, later, batch = 0, [], []
    rows = source.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    for row in rows.mappings():
        values = dict(row)
        if own and any(values[name] is not None for name in own):
            later.append(
                {f"own_{name}": values[name] for name in (*own, *stamped)}
                | _key_of(table, values)
            )
            values.update(dict.fromkeys(own))
        batch.append(values)
        if len(batch) == BATCH:
            copied += _insert(target, table, batch)
    copied += _insert(target, table, batch)
    if later:
        keys = table.primary_key.columns
        update = (
            table.update()
            .where(*(column == bindparam(f"key_{column.name}") for column in keys))
            .values({name: bindparam(f"own_{name}") for name in (*own, *stamped)})
        )
        target.execute(update, later)
    return copied


def _key_of(table: Table, values: dict) -> dict:
    return {f"key_{c.name}": values[c.name] for c in table.primary_key.columns}


def _insert(target: Connection, table: Table, batch: list[dict]) -> int:
    if batch:
        target.execute(table.insert(), batch)
    count = len(batch)
    batch.clear()
    return count


def _restart_ids(target: Connection, table: Table) -> None:
    # PostgreSQL's sequences do not see ids written by hand: the next post or
    # comment would take id 1 and fail.
    keys = list(table.primary_key.columns)
    if (
        len(keys) != 1
        or not keys[0].autoincrement
        or keys[0].type.python_type is not int
    ):
        return
    column = keys[0].name
    sequence = target.exec_driver_sql(
        "SELECT pg_get_serial_sequence(%(table)s, %(column)s)",
        {"table": table.name, "column": column},
    ).scalar()
    if sequence:
        target.exec_driver_sql(
            f'SELECT setval(%(sequence)s, COALESCE(MAX("{column}"), 1), '
            f'MAX("{column}") IS NOT NULL) FROM "{table.name}"',
            {"sequence": sequence},
        )
