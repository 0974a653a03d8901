"""The checked-in migrations build exactly the models' schema, on both backends."""

from __future__ import annotations

import stat
import warnings
from datetime import datetime
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, inspect, select, text

from blog import create_app
from blog.extensions import db
from blog.models import (
    Author,
    Block,
    Comment,
    ConfirmedAddress,
    OldPath,
    OutboxMessage,
    Post,
    Subscription,
    outside_search_index,
)
from blog.ops.schema import INITIAL_REVISION
from blog.seed.loader import load_seed


@pytest.fixture
def bare_app(empty_database_url):
    """An app on an empty database (no create_all, no seed)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": empty_database_url,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def schema_diff() -> list:
    """What autogenerate would change to make the database match the models."""
    # SQLite's reflection and alembic skip indexes on expressions, with a
    # warning (PostgreSQL compares them).
    with warnings.catch_warnings(), db.engine.connect() as conn:
        warnings.filterwarnings("ignore", ".*expression-based index")
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": outside_search_index,
            },
        )
        return compare_metadata(context, db.metadata)


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def expression_indexes() -> set[str]:
    """The indexes on expressions, which the schema comparison cannot see on
    SQLite: read from the catalogue itself."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            found = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        else:
            found = conn.exec_driver_sql("SELECT indexname FROM pg_indexes")
        return {name for (name,) in found} & {"ix_comment_post_content"}


# The comment indexes of only the rows that have a value: the comparison does
# not look at an index's WHERE.
PARTIAL_INDEXES = {
    "ix_comment_notice_due",
    "ix_comment_parent_status",
    "ix_comment_post_legacy",
    "ix_comment_thread_status",
}


def partial_indexes() -> set[str]:
    """The comment table's indexes with a WHERE, read from the catalogue."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            found = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = 'comment'"
            )
        else:
            found = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'comment'"
            )
        return {name for name, sql in found if sql and " WHERE " in sql.upper()}


def test_migrations_produce_exactly_the_models_schema(bare_app):
    with bare_app.app_context():
        flask_migrate.upgrade()
        assert schema_diff() == []
        assert expression_indexes() == {"ix_comment_post_content"}
        assert partial_indexes() == PARTIAL_INDEXES
        assert current_revision() == head_revision()


def test_going_back_before_0022_indexes_every_reply_again(bare_app):
    with bare_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="0021")
        assert partial_indexes() == {"ix_comment_notice_due"}
        flask_migrate.upgrade()
        assert partial_indexes() == PARTIAL_INDEXES


def test_migrations_downgrade_to_an_empty_database(bare_app):
    with bare_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]


@pytest.mark.parametrize("revision", ["0019", "0004"])
def test_going_back_releases_keeps_the_rows_that_point_to_a_changed_table(
    bare_app, revision
):
    # A downgrade drops the column it added and nothing else: a copied and
    # dropped table would take with it (foreign keys on) every post's
    # categories, every subscription, every reply's parent.
    runner = bare_app.test_cli_runner()
    assert runner.invoke(args=["upgrade-db"]).exit_code == 0
    assert runner.invoke(args=["seed"]).exit_code == 0
    counts = (
        "SELECT (SELECT count(*) FROM post_categories),"
        " (SELECT count(*) FROM comment WHERE parent_id IS NOT NULL),"
        " (SELECT count(*) FROM subscription)"
    )
    with bare_app.app_context():
        db.session.execute(
            text(
                "INSERT INTO subscription (email, post_id, created_at)"
                " SELECT 'lucia@example.org', id, CURRENT_TIMESTAMP FROM post LIMIT 1"
            )
        )
        db.session.execute(
            text(
                "UPDATE comment SET parent_id = (SELECT min(id) FROM comment)"
                " WHERE id = (SELECT max(id) FROM comment)"
            )
        )
        db.session.commit()
        before = tuple(db.session.execute(text(counts)).one())
        assert all(before)
        db.session.remove()
        flask_migrate.downgrade(revision=revision)
        assert tuple(db.session.execute(text(counts)).one()) == before
        db.session.remove()
        flask_migrate.upgrade()
        assert current_revision() == head_revision()


def test_upgrade_db_creates_a_fresh_database_then_seed_fills_it(bare_app):
    runner = bare_app.test_cli_runner()
    result = runner.invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    with bare_app.app_context():
        assert schema_diff() == []
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_upgrade_db_adopts_a_database_made_by_init_db_before_migrations(bare_app):
    with bare_app.app_context():
        db.create_all()
        load_seed()
        db.session.commit()
        assert current_revision() is None
    result = bare_app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert "adopted" in result.output
    with bare_app.app_context():
        assert current_revision() == head_revision()
        assert schema_diff() == []
        assert expression_indexes() == {"ix_comment_post_content"}
        assert partial_indexes() == PARTIAL_INDEXES
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 12


def test_upgrade_db_and_init_db_twice_change_nothing(bare_app):
    runner = bare_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["seed"]).exit_code == 0
    for command in ("upgrade-db", "init-db"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 0, result.output
        assert "upgraded" in result.output
    with bare_app.app_context():
        assert current_revision() == head_revision()
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_a_database_upgraded_by_a_newer_release_is_refused_in_one_line(bare_app):
    runner = bare_app.test_cli_runner()
    assert runner.invoke(args=["upgrade-db"]).exit_code == 0
    with bare_app.app_context():  # as a later release's migration would leave it
        db.session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        db.session.commit()
    result = runner.invoke(args=["upgrade-db"])
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: the database is at revision 0099, newer than this code"
    )
    assert "db downgrade" in result.output and "Traceback" not in result.output


def test_authors_from_before_session_versions_start_at_version_one(bare_app):
    with bare_app.app_context():
        flask_migrate.upgrade(revision=INITIAL_REVISION)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO author (username, slug, display_name, email,"
                    " password_hash, title, bio, url)"
                    " VALUES ('anna', 'anna', 'Anna', '', '', '', '', '')"
                )
            )
        flask_migrate.upgrade()
        assert db.session.scalar(select(Author.session_version)) == 1


# An author and a post as the schema held them between 0002 and 0014.
AUTHOR_AND_POST = (
    "INSERT INTO author (id, username, slug, display_name, email,"
    " password_hash, title, bio, url, session_version)"
    " VALUES (1, 'anna', 'anna', 'Anna', '', '', '', '', '', 1)",
    "INSERT INTO post (id, slug, title, body, excerpt, author_id, status,"
    " comment_status, ping_status, created_at, updated_at)"
    " VALUES (1, 'p', 'P', '', '', 1, 'published', 'open', 'open',"
    " '2020-01-01', '2020-01-01')",
)


def at_revision_with_a_post(revision: str, *statements: str) -> None:
    """The schema at ``revision``, holding an author, a post and ``statements``."""
    flask_migrate.upgrade(revision=revision)
    with db.engine.begin() as conn:
        for statement in (*AUTHOR_AND_POST, *statements):
            conn.execute(text(statement))


def test_subscriptions_of_confirmed_addresses_keep_mailing_after_0013(bare_app):
    with bare_app.app_context():
        at_revision_with_a_post(
            "0012",
            "INSERT INTO confirmed_address (email, confirmed_at)"
            " VALUES ('si@example.org', '2021-02-03 04:05:06')",
            "INSERT INTO subscription (email, post_id, created_at) VALUES"
            " ('si@example.org', 1, '2021-01-01'),"
            " ('no@example.org', 1, '2021-01-01')",
        )
        flask_migrate.upgrade()
        rows = db.session.execute(
            select(Subscription.email, Subscription.confirmed_at).order_by(
                Subscription.email
            )
        ).all()
    assert rows == [
        ("no@example.org", None),
        ("si@example.org", datetime(2021, 2, 3, 4, 5, 6)),
    ]


def test_going_back_before_0021_queues_the_held_notices_still_marked(bare_app):
    with bare_app.app_context():
        at_revision_with_a_post(
            "0021",
            *(
                "INSERT INTO comment (id, post_id, status, notice_due, depth, type,"
                " author_name, author_email, author_url, author_ip, user_agent,"
                " content, content_html, source_title, moderation_reason,"
                " status_before, owner_token_hash, created_at, updated_at)"
                f" VALUES ({row}, 'c', '', '', '', '', '', '', '', '', '', '', '',"
                " '2021-01-01', '2021-01-01')"
                for row in (
                    "7, 1, 'pending', true, 1",
                    "8, 1, 'approved', true, 1",
                    "9, 1, 'pending', false, 1",
                )
            ),
        )
        db.session.remove()
        flask_migrate.downgrade(revision="0020")
        with db.engine.connect() as conn:
            queued = conn.execute(
                text("SELECT kind, ref_id, status FROM mail_outbox")
            ).all()
    # The approved one needs no notice; 9's was queued before (or sent).
    assert queued == [("held", 7, "queued")]


def test_posts_from_before_pages_are_articles(bare_app):
    with bare_app.app_context():
        at_revision_with_a_post("0013")
        flask_migrate.upgrade()
        assert db.session.scalar(select(Post.kind)) == "post"


def test_old_addresses_with_doubled_slashes_are_made_single(bare_app):
    with bare_app.app_context():
        at_revision_with_a_post(
            "0014",
            *(
                "INSERT INTO old_path (id, path, post_id, source, created_at)"
                f" VALUES ({number}, '{path}', 1, 'wordpress', '2020-01-01')"
                for number, path in enumerate(
                    ("/greek//a-page", "/x/y", "/x//y", "//"), start=1
                )
            ),
        )
        flask_migrate.upgrade()
        paths = db.session.scalars(select(OldPath.path).order_by(OldPath.id)).all()
    assert paths == ["/greek/a-page", "/x/y"]


def test_stored_addresses_take_the_one_form_requests_compare_with(bare_app):
    # Before 0016 an address was stored lower-cased as typed: its domain in
    # IDNA's ASCII spelling, in fullwidth letters, decomposed.
    with bare_app.app_context():
        at_revision_with_a_post(
            "0015",
            "INSERT INTO subscription (email, post_id, created_at) VALUES"
            " ('a@xn--bcher-kva.example', 1, '2021-01-01'),"
            " ('b@straße.de', 1, '2021-01-01'),"
            " ('c@example.org', 1, '2021-01-01')",
            "INSERT INTO confirmed_address (email, confirmed_at) VALUES"
            " ('a@bücher.example', '2021-01-03'),"
            " ('a@xn--bcher-kva.example', '2021-01-02')",
            "INSERT INTO block (kind, value, reason, created_at) VALUES"
            " ('email', 'a@bücher.example', 'troll', '2021-01-01'),"
            " ('email', 'a@\uff42ücher.example', 'di nuovo', '2021-01-01'),"
            " ('domain', 'xn--bcher-kva.example', '', '2021-01-01')",
            "INSERT INTO mail_outbox (kind, ref_id, recipient, status, attempts,"
            " last_error, next_attempt_at, created_at) VALUES ('notice', 1,"
            " 'a@xn--bcher-kva.example', 'sent', 1, '', '2021-01-01', '2021-01-01')",
        )
        flask_migrate.upgrade()
        emails = db.session.scalars(select(Subscription.email).order_by("id"))
        assert list(emails) == ["a@bücher.example", "b@straße.de", "c@example.org"]
        # Two spellings, one address: confirmed since the first of them.
        confirmed = db.session.execute(
            select(ConfirmedAddress.email, ConfirmedAddress.confirmed_at)
        ).all()
        assert confirmed == [("a@bücher.example", datetime(2021, 1, 2))]
        blocks = db.session.execute(
            select(Block.kind, Block.value, Block.reason).order_by("id")
        )
        # A domain block names a host, not an address: as it was.
        assert blocks.all() == [
            ("email", "a@bücher.example", "troll; di nuovo"),
            ("domain", "xn--bcher-kva.example", ""),
        ]
        assert db.session.scalar(select(OutboxMessage.recipient)) == "a@bücher.example"


@pytest.mark.backends("sqlite")
def test_a_new_database_file_is_its_owners_alone(bare_app):
    # Readers' emails and addresses live there (backups are 0600 too).
    result = bare_app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    with bare_app.app_context():
        path = Path(db.engine.url.database)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.backends("postgresql")
def test_an_upgrade_that_meets_a_busy_table_says_so_and_runs_again(
    bare_app, empty_database_url
):
    # A pg_dump holds every table it reads: the migration's ALTER waits at most
    # LOCK_TIMEOUT (readers would queue behind it), then says what happened.
    with bare_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="0020")  # 0021 adds a column to comment
        db.session.remove()
        dump = db.engine.connect()
    dump.execute(text("LOCK TABLE comment IN ACCESS SHARE MODE"))
    try:
        busy = bare_app.test_cli_runner().invoke(args=["upgrade-db"])
    finally:
        dump.rollback()
        dump.close()
    assert busy.exit_code == 1
    assert "stayed in use by another process" in busy.output
    assert "run the command again once it ends" in busy.output
    assert bare_app.test_cli_runner().invoke(args=["upgrade-db"]).exit_code == 0
