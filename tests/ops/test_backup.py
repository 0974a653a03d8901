"""`flask --app blog backup PATH`: a consistent copy while the blog serves."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from blog.extensions import db
from blog.models import Comment


def counts(path) -> tuple[int, int, str]:
    conn = sqlite3.connect(path)
    try:
        posts = conn.execute("SELECT count(*) FROM post").fetchone()[0]
        comments = conn.execute("SELECT count(*) FROM comment").fetchone()[0]
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return posts, comments, check


@pytest.mark.backends("sqlite")
def test_backup_copies_committed_data_while_a_reader_holds_the_database(
    app, runner, tmp_path
):
    with app.app_context():
        post_id = db.session.scalar(db.select(Comment.post_id).limit(1))
        db.session.add(Comment(post_id=post_id, content="dopo", status="approved"))
        db.session.commit()
        live = db.engine.url.database
    # An open read transaction blocks checkpoints: the new row lives in the WAL.
    reader = sqlite3.connect(live)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM comment").fetchone()
    try:
        target = tmp_path / "copy.sqlite3"
        result = runner.invoke(args=["backup", str(target)])
    finally:
        reader.close()
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output
    assert counts(target) == (3, 13, "ok")
    assert not (tmp_path / "copy.sqlite3-wal").exists()


@pytest.mark.backends("sqlite")
def test_backup_never_overwrites_without_force(runner, tmp_path):
    target = tmp_path / "copy.sqlite3"
    target.write_text("precious")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "--force" in result.output
    assert target.read_text() == "precious"
    result = runner.invoke(args=["backup", "--force", str(target)])
    assert result.exit_code == 0, result.output
    assert counts(target) == (3, 12, "ok")


@pytest.mark.backends("postgresql")
def test_backup_on_postgresql_points_to_pg_dump(runner, tmp_path):
    target = tmp_path / "copy.dump"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "(umask 077; pg_dump --format=custom" in result.output
    assert "pg_restore --clean --if-exists --dbname='postgresql://" in result.output
    assert "postgresql://" in result.output
    assert not target.exists()


@pytest.mark.backends("sqlite")
def test_backup_into_a_missing_directory_is_a_one_line_error(runner, tmp_path):
    target = tmp_path / "manca" / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: No directory {target.parent}")
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def backed_up(app, runner, tmp_path) -> tuple[str, Path]:
    """The live database's file and a backup of it, the app's connections closed."""
    with app.app_context():
        live = db.engine.url.database
        db.engine.dispose()
    backup = tmp_path / "copy.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    return live, backup


def crash_after_writing(database: str, content: str) -> None:
    """A process that commits a comment and dies without a checkpoint, as a
    worker killed with the blog does: its pages stay in the -wal file."""
    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "cols = ', '.join(r[1] for r in c.execute('PRAGMA table_info(comment)')"
        " if r[1] != 'id')\n"
        "c.execute(f'INSERT INTO comment ({cols})'"
        " f' SELECT {cols} FROM comment LIMIT 1')\n"
        "c.execute('UPDATE comment SET content = ? WHERE id = (SELECT max(id)"
        " FROM comment)', (sys.argv[2],))\n"
        "c.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, database, content], check=True)


@pytest.mark.backends("sqlite")
def test_restore_names_an_older_backups_schema_and_what_to_run(runner, backed_up):
    _, backup = backed_up
    with sqlite3.connect(backup) as older:
        older.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        older.execute("INSERT INTO alembic_version VALUES ('0010')")
    older.close()
    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code == 0, result.output
    assert "SQLite pages). The backup is at schema revision 0010" in result.output
    assert "run upgrade-db, then start the blog." in result.output


@pytest.mark.backends("sqlite")
def test_restore_brings_back_the_backup_even_beside_a_stale_wal(app, runner, backed_up):
    live, backup = backed_up
    crash_after_writing(live, "scritto dopo il backup")
    # Not opened here: the last connection to close would checkpoint the -wal.
    assert Path(live + "-wal").stat().st_size > 0

    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert counts(live) == (3, 12, "ok")
    with app.app_context():
        texts = db.session.scalars(db.select(Comment.content)).all()
    assert "scritto dopo il backup" not in texts and len(texts) == 12


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"non un database" * 100, "is not a SQLite database"), (None, "is not a backup")],
)
def test_restore_refuses_a_file_that_is_no_backup_and_touches_nothing(
    app, runner, tmp_path, content, reason
):
    with app.app_context():
        live = db.engine.url.database
    other = tmp_path / "altro.sqlite3"
    if content is None:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    else:
        other.write_bytes(content)
    before = counts(live)
    result = runner.invoke(args=["restore", "--yes", str(other)])
    assert result.exit_code == 1
    assert reason in result.output
    assert counts(live) == before


@pytest.mark.backends("sqlite")
def test_restore_asks_before_replacing_everything(app, runner, backed_up):
    live, backup = backed_up
    crash_after_writing(live, "da tenere")
    result = runner.invoke(args=["restore", str(backup)], input="n\n")
    assert result.exit_code == 1
    assert "Replace everything in" in result.output
    assert counts(live)[1] == 13


@pytest.mark.backends("sqlite")
def test_restore_while_the_blog_writes_says_to_stop_it_first(app, runner, backed_up):
    live, backup = backed_up
    crash_after_writing(live, "da tenere")
    blog = sqlite3.connect(live)
    blog.execute("BEGIN IMMEDIATE")  # a worker in the middle of a write
    try:
        result = runner.invoke(args=["restore", "--yes", str(backup)])
    finally:
        blog.rollback()
        blog.close()
    assert result.exit_code == 1
    assert "stop it first" in result.output
    assert counts(live)[1] == 13


@pytest.mark.backends("sqlite")
def test_restore_takes_a_backup_with_another_page_size(app, runner, backed_up):
    live, backup = backed_up
    other = sqlite3.connect(backup)
    other.execute("PRAGMA page_size=8192")
    other.execute("VACUUM")
    other.close()
    crash_after_writing(live, "scritto dopo il backup")
    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code == 0, result.output
    assert counts(live) == (3, 12, "ok")
    check = sqlite3.connect(live)
    try:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        check.close()


@pytest.mark.backends("sqlite")
def test_compacting_gives_back_the_space_of_an_emptied_spam_wave(app, runner):
    with app.app_context():
        post_id = db.session.scalar(db.select(Comment.post_id).limit(1))
        db.session.add_all(
            Comment(post_id=post_id, content="spam " * 400, status="spam")
            for _ in range(500)
        )
        db.session.commit()
        db.session.execute(db.delete(Comment).where(Comment.status == "spam"))
        db.session.commit()
        live = db.engine.url.database
        db.engine.dispose()
    grown = Path(live).stat().st_size  # the log checkpointed as the pool closed
    result = runner.invoke(args=["compact-db"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Database compacted: {grown} bytes before,")
    now = Path(live).stat().st_size
    assert now < grown / 4
    assert counts(live) == (3, 12, "ok")


@pytest.mark.backends("sqlite")
def test_compacting_while_the_blog_writes_says_when_to_try_again(app, runner):
    with app.app_context():
        live = db.engine.url.database
    writer = sqlite3.connect(live, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    try:
        result = runner.invoke(args=["compact-db", "--wait", "0.2"])
    finally:
        writer.rollback()
        writer.close()
    assert result.exit_code == 1
    assert "Not compacted" in result.output and "quieter moment" in result.output


@pytest.mark.backends("postgresql")
def test_compacting_on_postgresql_says_it_does_so_itself(runner):
    result = runner.invoke(args=["compact-db"])
    assert result.exit_code == 0, result.output
    assert "autovacuum" in result.output


@pytest.mark.backends("sqlite")
def test_compacting_while_a_reader_holds_the_old_pages_says_so(app, runner):
    with app.app_context():
        live = db.engine.url.database
    reader = sqlite3.connect(live)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM comment").fetchone()
    try:
        result = runner.invoke(args=["compact-db", "--wait", "0.2"])
    finally:
        reader.close()
    assert result.exit_code == 1
    assert "a reader still holds the old pages" in result.output
    assert counts(live) == (3, 12, "ok")


@pytest.mark.backends("sqlite")
def test_compacting_a_file_that_is_no_database_is_a_one_line_error(
    app, runner, tmp_path
):
    with app.app_context():
        live = db.engine.url.database
        db.engine.dispose()
    Path(live).write_bytes(b"not a database at all, " * 100)
    result = runner.invoke(args=["compact-db", "--wait", "0.2"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Not compacted: file is not a database")
