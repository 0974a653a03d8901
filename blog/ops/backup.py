"""Consistent copies of the database while the blog keeps serving."""

from __future__ import annotations

import os
import sqlite3
import tempfile

from sqlalchemy.engine import URL


class BackupError(Exception):
    """The backup could not be made; the message says what to do instead."""


def pg_dump_hint(url: URL) -> str:
    """The message for PostgreSQL databases, which pg_dump backs up."""
    safe = url.set(drivername="postgresql").render_as_string(hide_password=True)
    return (
        "This blog runs on PostgreSQL: back it up with pg_dump, for example\n"
        f"  pg_dump --format=custom --file=blog.dump '{safe}'\n"
        "and restore with pg_restore --clean --dbname=... blog.dump."
    )


def backup_sqlite(source: str, target: str, *, overwrite: bool = False) -> int:
    """Copy SQLite database ``source`` to ``target`` with the online backup API.

    Readers and writers may use ``source`` meanwhile; the copy is one consistent
    snapshot. It is written beside ``target`` first, then renamed into place.
    Returns the size of the copy in bytes.
    """
    if not os.path.isfile(source):
        raise BackupError(f"No database file at {source}.")
    if os.path.exists(target) and not overwrite:
        raise BackupError(f"{target} exists; choose a new name or pass --force.")
    if os.path.realpath(target) == os.path.realpath(source):
        raise BackupError("The backup cannot overwrite the database itself.")
    directory = os.path.dirname(os.path.abspath(target))
    handle, partial = tempfile.mkstemp(prefix=".backup-", dir=directory)
    os.close(handle)
    try:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(partial)
        try:
            with dst:
                src.backup(dst)
            # A self-contained file: no -wal beside the copy.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    return os.path.getsize(target)


def backup_database(url: URL, target: str, *, overwrite: bool = False) -> int:
    """Back up the database at ``url`` to ``target``; see :func:`backup_sqlite`."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise BackupError(pg_dump_hint(url))
    if backend != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(f"Cannot back up a {backend} database of this kind.")
    return backup_sqlite(url.database, target, overwrite=overwrite)
