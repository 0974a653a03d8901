"""The database gone while serving (its server down, its file unreachable):
every request answers 503 with Retry-After, and a form gives back its text."""

from __future__ import annotations

import shutil
import sqlite3
import threading

import pytest
from helpers_admin import form_data, signed_in, soup
from helpers_comments import POST_URL, filled_form
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from blog.extensions import db
from blog.seed.loader import load_seed
from blog.web.errors import bare_page, typed_fields


@pytest.fixture
def lost_database(make_app, tmp_path):
    """A served SQLite blog, and a way to take its file away from it."""
    home = tmp_path / "data"
    home.mkdir()
    app = make_app(DATABASE_URL=f"sqlite:///{home / 'blog.sqlite3'}")
    with app.app_context():
        db.create_all()
        load_seed()
        db.session.commit()

    def lose() -> None:
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(home)  # "unable to open database file" from now on

    yield app, lose
    with app.app_context():
        db.engine.dispose()


def test_pages_say_the_blog_is_unavailable_and_when_to_retry(lost_database):
    app, lose = lost_database
    client = app.test_client()
    lose()
    for url in ("/", POST_URL, "/feed/", "/?s=caff%C3%A8"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.headers["Retry-After"] == "10"
    assert "Servizio non disponibile" in soup(response).get_text()


def test_a_comment_sent_meanwhile_comes_back_to_be_copied(lost_database):
    app, lose = lost_database
    client = app.test_client()
    action, fields = filled_form(
        client, app, "Un commento scritto con cura", notify_replies="y"
    )
    lose()
    response = client.post(action, data=fields)
    assert response.status_code == 503
    typed = {
        area.find_previous("label").get_text(): area.get_text().strip()
        for area in soup(response).select("textarea[readonly]")
    }
    # Under the form's own names, and only what was typed (no ticked boxes).
    assert typed == {
        "Nome": "Lucia",
        "Email": "lucia@example.org",
        "Commento": "Un commento scritto con cura",
    }


def test_a_comment_refused_meanwhile_is_answered_after_the_pause(lost_database):
    # The view's 503, as the guard's: a script resending at once is slowed too.
    app, lose = lost_database
    pauses: list[float] = []
    app.extensions["post_guard"].held.pause = pauses.append
    client = app.test_client()
    action, fields = filled_form(client, app, "Un commento scritto con cura")
    lose()
    threaded = {"wsgi.multithread": True}
    response = client.post(action, data=fields, environ_overrides=threaded)
    assert response.status_code == 503
    assert pauses == [app.config["REFUSAL_HOLD_SECONDS"]]


def test_the_author_saving_a_post_gets_the_text_back(lost_database):
    app, lose = lost_database
    client = signed_in(app, app.test_client())
    editor = soup(client.get("/admin/posts/new"))
    form = editor.select_one("form.post-form")
    fields = form_data(form)
    fields.update(title="Un articolo nuovo", body="Il testo di un pomeriggio.")
    lose()
    response = client.post(form["action"], data=fields)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    kept = [area.get_text().strip() for area in soup(response).select("textarea")]
    assert "Il testo di un pomeriggio." in kept


def test_a_database_too_slow_to_give_a_connection_is_unavailable_too(
    lost_database, monkeypatch
):
    app, _ = lost_database
    client = app.test_client()

    def no_connection_in_time(*args, **kwargs):
        raise PoolTimeout("QueuePool limit reached, connection timed out")

    with app.app_context():
        monkeypatch.setattr(db.engine.pool, "connect", no_connection_in_time)
    response = client.get("/?s=caff%C3%A8")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"


def test_a_schema_older_than_the_code_says_to_run_upgrade_db(
    make_app, empty_database_url, caplog
):
    # New code started before its upgrade-db: a column it reads is not there
    # yet. Readers get the 503, the log says what to run (PostgreSQL raises a
    # ProgrammingError for it, SQLite an OperationalError).
    app = make_app(DATABASE_URL=empty_database_url)
    try:
        with app.app_context():
            db.create_all()
            load_seed()
            db.session.commit()
            db.session.execute(
                text("ALTER TABLE post RENAME COLUMN imported_guid TO guid_before")
            )
            db.session.commit()
        response = app.test_client().get("/feed/")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert "run upgrade-db" in caplog.text
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_log_names_the_database_file_it_cannot_open(lost_database, caplog):
    app, lose = lost_database
    with app.app_context():
        path = db.engine.url.database
    lose()
    assert app.test_client().get("/").status_code == 503
    assert f"unable to open database file ({path})" in caplog.text


@pytest.mark.backends("postgresql")
def test_a_table_locked_on_postgresql_is_a_503_not_a_hang(app):
    # VACUUM FULL or a migration holds the table: a reader waits as long as a
    # SQLite writer waits for its lock (LOCK_TIMEOUT), then gets the 503,
    # where the worker would hang for as long as the lock is held.
    with app.app_context():
        holder = db.engine.connect()
    holder.execute(text("LOCK TABLE comment IN ACCESS EXCLUSIVE MODE"))
    # Let go in 20 s at the latest: a reader that waits it out gets its page.
    release = threading.Timer(20, holder.rollback)
    release.start()
    try:
        response = app.test_client().get(POST_URL)
    finally:
        release.cancel()
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"


@pytest.mark.backends("sqlite")
def test_a_write_locked_out_on_sqlite_is_a_503_with_the_text(app):
    client = app.test_client()
    action, fields = filled_form(client, app, "Scritto mentre il blog era occupato")
    with app.app_context():
        live = db.engine.url.database
    writer = sqlite3.connect(live, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # a long write: an import, a bulk move
    try:
        response = client.post(action, data=fields)
    finally:
        writer.rollback()
        writer.close()
    assert response.status_code == 503
    assert "Scritto mentre il blog era occupato" in response.get_data(as_text=True)


def test_the_page_without_the_database_labels_what_it_gives_back():
    # The bare page (no template, no database) still reads on a phone and
    # names each text it gives back.
    page = soup(bare_page("Servizio", "Riprova.", 503, [("Commento", "Il mio testo")]))
    assert page.select_one("meta[name=viewport]") is not None
    area = page.select_one("textarea[readonly]")
    assert area.get_text() == "Il mio testo"
    assert page.select_one(f"label[for={area['id']}]").get_text() == "Commento"


def test_only_what_was_typed_is_given_back(app):
    # Choices, buttons and the forms' own fields are no one's text to keep.
    chosen = {
        "subscription": "all",
        "held": "1",
        "below": "1",
        "action_below": "spam",
        "revision": "2026-12-06T10:00:00",
        "menu_order": "0",
        "csrf_token": "x",
    }
    with app.test_request_context(
        "/", method="POST", data={**chosen, "comment": "Il mio testo"}
    ):
        assert typed_fields("csrf_token") == [("Commento", "Il mio testo")]
