"""`flask --app blog backup PATH`: a consistent copy while the blog serves."""

from __future__ import annotations

import sqlite3

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
    assert "pg_dump --format=custom" in result.output
    assert "postgresql://" in result.output
    assert not target.exists()
