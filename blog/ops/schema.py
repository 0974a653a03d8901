"""Schema upgrades through the checked-in Alembic migrations."""

from __future__ import annotations

import os

import flask_migrate
from sqlalchemy import inspect

from ..extensions import db
from .backup import sqlite_path

# The first revision in migrations/versions (scripts/migration-reset.sh keeps
# this id when it regenerates the initial migration).
INITIAL_REVISION = "0001"


def schema_state() -> str:
    """``empty``, ``unversioned`` (made by ``db.create_all``) or ``versioned``."""
    tables = set(inspect(db.engine).get_table_names())
    if "alembic_version" in tables:
        return "versioned"
    return "unversioned" if tables else "empty"


def upgrade_database() -> str:
    """Bring the schema to the latest migration; return what was done, in words.

    A database made before migrations existed (``init-db``) is adopted: the
    tables it lacks are created, it is stamped with the initial revision, then
    the later migrations run.
    """
    _create_private_sqlite_file()
    state = schema_state()
    if state == "unversioned":
        db.create_all()
        flask_migrate.stamp(revision=INITIAL_REVISION)
    flask_migrate.upgrade()
    return {
        "empty": "Database created at the latest schema.",
        "unversioned": "Existing database adopted by the migrations and upgraded.",
        "versioned": "Database upgraded to the latest schema.",
    }[state]


def _create_private_sqlite_file() -> None:
    # Readers' emails and addresses live there: a new SQLite file is made for
    # its owner alone (0600, as backups are); SQLite gives its -wal and -shm
    # the same mode.
    path = sqlite_path(db.engine.url)
    if path is None:
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # an existing database keeps the mode its operator gave it
