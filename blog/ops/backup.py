"""Consistent copies of the database while the blog keeps serving, and restores."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

from ..database import sqlite_path


class BackupError(Exception):
    """The backup could not be made; the message says what to do instead."""


def pg_dump_hint(url: URL) -> str:
    """The message for PostgreSQL databases, which pg_dump backs up."""
    safe = url.set(drivername="postgresql").render_as_string(hide_password=True)
    # The README's commands: the dump holds readers' addresses, and a new,
    # empty database has nothing for --clean to drop.
    return (
        "This blog runs on PostgreSQL: back it up with pg_dump, for example\n"
        f"  (umask 077; pg_dump --format=custom --file=blog.dump '{safe}')\n"
        "and restore with\n"
        f"  pg_restore --clean --if-exists --dbname='{safe}' blog.dump"
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
    if not os.path.isdir(directory):
        raise BackupError(f"No directory {directory}: create it first.")
    try:
        handle, partial = tempfile.mkstemp(prefix=".backup-", dir=directory)
    except OSError as error:
        raise BackupError(f"Cannot write in {directory}: {error.strerror}.") from error
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


def _sqlite_file(url: URL) -> str:
    if url.get_backend_name() == "postgresql":
        raise BackupError(pg_dump_hint(url))
    path = sqlite_path(url)
    if path is None:
        kind = url.get_backend_name()
        raise BackupError(f"Cannot back up a {kind} database of this kind.")
    return path


def backup_database(url: URL, target: str, *, overwrite: bool = False) -> int:
    """Back up the database at ``url`` to ``target``; see :func:`backup_sqlite`."""
    return backup_sqlite(_sqlite_file(url), target, overwrite=overwrite)


_BLOG_TABLES = {"post", "comment", "setting"}  # what makes a file this blog's


def _open_backup(backup: str) -> sqlite3.Connection:
    """``backup`` opened read-only, once it is known to be a sound copy of a blog."""
    if not os.path.isfile(backup):
        raise BackupError(f"No backup file at {backup}.")
    source = sqlite3.connect(f"{Path(backup).resolve().as_uri()}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA quick_check").fetchone()[0]
        tables = {
            name
            for (name,) in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    except sqlite3.DatabaseError as error:
        source.close()
        raise BackupError(f"{backup} is not a SQLite database.") from error
    if check != "ok" or not _BLOG_TABLES <= tables:
        source.close()
        why = "is damaged" if check != "ok" else "is not a backup of this blog"
        raise BackupError(f"{backup} {why}; the database was not touched.")
    return source


def restore_database(url: URL, backup: str) -> int:
    """Put the backup file ``backup`` in place of the SQLite database at ``url``;
    returns the number of pages copied.

    Through SQLite's backup API, never by copying the file: a ``-wal`` left
    beside the database (workers stopped without a checkpoint) would otherwise
    be replayed over the copied file the next time it is opened, and the
    restored database would hold the old pages again.
    """
    live = _sqlite_file(url)
    if os.path.exists(live) and os.path.samefile(backup, live):
        raise BackupError("The backup is the database itself.")
    source = _open_backup(backup)
    try:
        target = sqlite3.connect(live, timeout=5)
        try:
            # Out of WAL for the copy: SQLite cannot change a WAL database's
            # page size, and a backup made elsewhere may have another. This
            # also checkpoints any -wal left by stopped workers first.
            target.execute("PRAGMA journal_mode=DELETE")
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
            return target.execute("PRAGMA page_count").fetchone()[0]
        except sqlite3.OperationalError as error:
            hint = ""
            if "locked" in str(error):
                # Another process has the database open: the blog itself.
                hint = " The blog (or another command) is using it: stop it first."
            raise BackupError(f"Could not write {live}: {error}.{hint}") from error
        finally:
            target.close()
    finally:
        source.close()


def compact_sqlite(path: str, wait: float = 30) -> tuple[int, int]:
    """Give the space of deleted rows (an emptied spam wave) back to the disk:
    VACUUM, then a checkpoint that empties the write-ahead log. The sizes of
    the database and its log in bytes, before and after.

    Writers wait while it runs (up to the busy timeout, then fail): run it in a
    quiet hour, or with the blog stopped. It waits up to ``wait`` seconds for
    a writer to finish first.
    """
    if not os.path.isfile(path):
        raise BackupError(f"No database file at {path}.")
    before = _size_with_log(path)
    connection = sqlite3.connect(path, timeout=wait, isolation_level=None)
    try:
        connection.execute("VACUUM")
        busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.DatabaseError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise BackupError(
                f"Not compacted: {error}. The blog may be writing: try again in "
                "a quieter moment, or stop it first."
            ) from error
        raise BackupError(f"Not compacted: {error}.") from error
    finally:
        connection.close()
    if busy:
        # The compacted pages wait in the log while a reader holds the old ones.
        raise BackupError(
            "Compacted, but a reader still holds the old pages: the file shrinks "
            "when it lets go. Run compact-db again in a quieter moment."
        )
    return before, _size_with_log(path)


def _size_with_log(path: str) -> int:
    log = Path(f"{path}-wal")
    return os.path.getsize(path) + (log.stat().st_size if log.exists() else 0)
