"""Schema upgrades through the checked-in Alembic migrations."""

from __future__ import annotations

import click
import flask_migrate
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect, text

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

    A database made before migrations existed (by that release's ``init-db``,
    from its models) is adopted: the
    tables it lacks are created, it is stamped with the initial revision, then
    the later migrations run.
    """
    create_private_sqlite_file(db.engine.url)
    state = schema_state()
    if state == "versioned":
        refuse_a_newer_schema()
    if state == "unversioned":
        db.create_all()
        flask_migrate.stamp(revision=INITIAL_REVISION)
    flask_migrate.upgrade()
    return {
        "empty": "Database created at the latest schema.",
        "unversioned": "Existing database adopted by the migrations and upgraded.",
        "versioned": "Database upgraded to the latest schema.",
    }[state]


class NewerSchemaError(click.ClickException):
    """The database was upgraded by a newer release than this code."""


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(
        current_app.extensions["migrate"].migrate.get_config()
    )


def _stored_revisions() -> list[str]:
    return list(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def schema_behind() -> str | None:
    """The database's revision when this code has a later one: a backup of an
    older release restored, or the server started before ``upgrade-db``
    (every page would answer 503). None when current, or when made from the
    models without migrations (as the tests make theirs)."""
    if schema_state() != "versioned":
        return None
    stored = _stored_revisions()
    if "schema_head" not in current_app.extensions:  # read once per process
        current_app.extensions["schema_head"] = _scripts().get_current_head()
    head = current_app.extensions["schema_head"]
    return None if head in stored else (stored[0] if stored else "")


def refuse_a_newer_schema() -> None:
    """Refuse, in one line, a database whose revision this code does not know
    (a release rolled back after its upgrade): say the two ways back."""
    stored = _stored_revisions()
    scripts = _scripts()
    known = {revision.revision for revision in scripts.walk_revisions()}
    unknown = [revision for revision in stored if revision not in known]
    if unknown:
        head = scripts.get_current_head()
        raise NewerSchemaError(
            f"the database is at revision {unknown[0]}, newer than this code "
            f"({head}): with the newer code run '.venv/bin/flask --app blog db "
            f"downgrade {head}' first, or restore the backup taken before the "
            "upgrade."
        )
