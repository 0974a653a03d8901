"""Schema upgrades through the checked-in Alembic migrations."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect

from ..database import create_private_sqlite_file
from ..extensions import db

# The first revision in migrations/versions, which an adopted database is
# stamped with.
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
    create_private_sqlite_file(db.engine.url)
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
