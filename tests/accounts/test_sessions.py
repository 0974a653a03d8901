"""Ending sessions: this browser's, or every browser's at once."""

from __future__ import annotations

from datetime import timedelta

from helpers_admin import PASSWORD, add_author, csrf_from, log_in, press, soup
from sqlalchemy import func, select, update

from blog.accounts import authors
from blog.extensions import db
from blog.models import Author, SignIn

SIGNED_OUT_EVERYWHERE = "Disconnessione effettuata su tutti i dispositivi."


def captured_copy(app, client):
    """Another browser holding a copy of ``client``'s session cookie (a thief's)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def opens_the_admin(client) -> bool:
    response = client.get("/admin/comments")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/admin/login?next=")
        return False
    assert response.status_code == 200
    return True


def session_version(app, username: str = "riccardo") -> int:
    with app.app_context():
        return db.session.scalar(
            select(Author.session_version).where(Author.username == username)
        )


def test_sign_out_everywhere_ends_every_session_including_a_captured_one(app, client):
    add_author(app)
    assert log_in(client).status_code == 302
    thief = captured_copy(app, client)
    laptop = app.test_client()
    assert log_in(laptop).status_code == 302
    assert opens_the_admin(thief)

    response = press(client, soup(client.get("/admin/")), "Esci da tutti i dispositivi")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    login_page = client.get("/admin/login").get_data(as_text=True)
    assert SIGNED_OUT_EVERYWHERE in login_page

    assert not opens_the_admin(client)
    assert not opens_the_admin(thief)
    assert not opens_the_admin(laptop)
    # Signing in again works, with a session the thief's copy is not.
    assert log_in(client).status_code == 302
    assert opens_the_admin(client)
    assert not opens_the_admin(thief)


def test_a_new_password_from_create_author_ends_every_session(app, client, runner):
    add_author(app)
    assert log_in(client).status_code == 302
    thief = captured_copy(app, client)
    result = runner.invoke(args=["create-author", "riccardo"], input="nuova-password\n")
    assert result.exit_code == 0, result.output
    assert not opens_the_admin(thief)
    assert not opens_the_admin(client)
    assert log_in(client, password="nuova-password").status_code == 302
    assert opens_the_admin(client)


def test_sign_out_ends_this_browsers_session_only(app, client):
    add_author(app)
    laptop = app.test_client()
    for browser in (client, laptop):
        assert log_in(browser).status_code == 302
    before = session_version(app)
    response = client.post(
        "/admin/logout", data={"csrf_token": csrf_from(client, "/admin/")}
    )
    assert response.status_code == 302
    assert not opens_the_admin(client)
    assert opens_the_admin(laptop)
    assert session_version(app) == before


def test_sign_out_everywhere_is_a_post_with_the_token(app, client):
    add_author(app)
    assert log_in(client).status_code == 302
    thief = captured_copy(app, client)
    before = session_version(app)
    assert client.get("/admin/logout-everywhere").status_code == 405
    assert client.post("/admin/logout-everywhere").status_code == 400
    forged = {"csrf_token": "forged"}
    assert client.post("/admin/logout-everywhere", data=forged).status_code == 400
    assert session_version(app) == before
    assert opens_the_admin(client)
    assert opens_the_admin(thief)


def test_sign_out_everywhere_leaves_other_authors_signed_in(app, client):
    add_author(app)
    add_author(app, "giulia")
    giulia = app.test_client()
    assert log_in(giulia, "giulia", PASSWORD).status_code == 302
    assert log_in(client).status_code == 302
    press(client, soup(client.get("/admin/")), "Esci da tutti i dispositivi")
    assert not opens_the_admin(client)
    assert opens_the_admin(giulia)


def test_a_session_from_before_sign_ins_were_kept_is_signed_out(app, client):
    author_id = add_author(app)
    with client.session_transaction() as session:
        session["author_id"] = author_id  # as sessions were made before
        session["session_version"] = session_version(app)
    assert not opens_the_admin(client)


def test_sign_out_ends_a_captured_copy_of_the_session_too(app, client):
    add_author(app)
    assert log_in(client).status_code == 302
    thief = captured_copy(app, client)
    assert opens_the_admin(thief)
    response = client.post(
        "/admin/logout", data={"csrf_token": csrf_from(client, "/admin/")}
    )
    assert response.status_code == 302
    assert not opens_the_admin(client)
    assert not opens_the_admin(thief)


def test_a_sign_in_ends_after_the_session_lifetime_however_busy(app, client):
    add_author(app)
    assert log_in(client).status_code == 302
    assert opens_the_admin(client)
    with app.app_context():
        record = db.session.scalar(select(SignIn))
        record.created_at -= app.permanent_session_lifetime + timedelta(minutes=1)
        db.session.commit()
    assert not opens_the_admin(client)
    # The next sign-in drops the expired record and makes its own.
    assert log_in(client).status_code == 302
    assert opens_the_admin(client)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_the_database_holds_no_usable_session_token(app, client):
    add_author(app)
    assert log_in(client).status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    with app.app_context():
        digest = db.session.scalar(select(SignIn.digest))
        token = app.session_interface.get_signing_serializer(app).loads(cookie)[
            "sign_in"
        ]
    assert len(digest) == 64 and token not in digest


def test_a_password_changed_during_a_sign_in_leaves_that_sign_in_worthless(
    app, client, monkeypatch
):
    add_author(app)
    checked = authors.check_password_hash

    def changed_meanwhile(stored: str, password: str) -> bool:
        # create-author commits a new password while this check runs.
        with db.engine.begin() as other:
            other.execute(
                update(Author).values(session_version=Author.session_version + 1)
            )
        return checked(stored, password)

    monkeypatch.setattr(authors, "check_password_hash", changed_meanwhile)
    assert log_in(client).status_code == 302
    assert not opens_the_admin(client)


def test_a_form_sent_after_the_session_ended_comes_back_to_its_page(app, client):
    # The form's own address takes POSTs only: after signing in again the
    # author lands on the page the form was on, not on a 405.
    add_author(app)
    log_in(client)
    queue = "/admin/comments?view=pending"
    token = csrf_from(client, queue)
    laptop = app.test_client()
    log_in(laptop)
    press(laptop, soup(laptop.get("/admin/")), "Esci da tutti i dispositivi")
    response = client.post(
        "/admin/comments/1/action",
        data={"action": "approve", "csrf_token": token},
        headers={"Referer": f"http://localhost{queue}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "/admin/login?next=/admin/comments?view%3Dpending"
    )
    elsewhere = client.post(
        "/admin/comments/1/action",
        data={"action": "approve", "csrf_token": token},
        headers={"Referer": "https://altro.example/admin/comments"},
    )
    assert elsewhere.headers["Location"] == "/admin/login"
    # A header no browser sends (a bracket where the host is): no 500.
    broken = client.post(
        "/admin/comments/1/action",
        data={"action": "approve", "csrf_token": token},
        headers={"Referer": "http://[localhost/admin/comments"},
    )
    assert broken.status_code == 302
    assert broken.headers["Location"] == "/admin/login"
