"""Signing in: accounts, throttling, and that every admin page needs an author."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from helpers_admin import (
    PASSWORD,
    add_author,
    add_comment,
    comment_status,
    csrf_from,
    log_in,
    press,
    soup,
)
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from blog.accounts import authors
from blog.accounts.authors import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    DEVICE_COOKIE_SALT,
    MAX_FAILURES,
    failure_counter,
    failure_limit,
    trusted_device,
)
from blog.admin.urls import safe_next
from blog.extensions import db, limiter
from blog.models import Author, Post, RateCounter
from blog.web import dbstore, localstore

THROTTLED = "Troppi tentativi, riprova più tardi."
INVALID = "Nome utente o password non corretti."


@pytest.mark.app_config(PASSWORD_HASH_METHOD=None)
def test_create_author_reads_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-author", "giulia"], input="s3greta-lunga\n")
    assert result.exit_code == 0, result.output
    assert "giulia" in result.output
    with app.app_context():
        author = db.session.scalar(select(Author).where(Author.username == "giulia"))
        assert author.password_hash.startswith("scrypt:")
        assert "s3greta-lunga" not in author.password_hash
        assert author.slug == "giulia"


@pytest.mark.parametrize("password", ["corta", "7-lette"])
def test_create_author_refuses_a_password_under_8_characters(app, runner, password):
    result = runner.invoke(args=["create-author", "giulia"], input=password + "\n")
    assert result.exit_code != 0
    assert "almeno 8 caratteri" in result.output
    with app.app_context():
        assert (
            db.session.scalar(select(Author).where(Author.username == "giulia")) is None
        )


def test_create_author_takes_a_password_of_8_characters(app, runner, client):
    result = runner.invoke(args=["create-author", "giulia"], input="8-lettre\n")
    assert result.exit_code == 0, result.output
    assert log_in(client, "giulia", "8-lettre").status_code == 302


def test_create_author_refuses_a_username_longer_than_its_column(app, runner):
    # 60 characters is the column's size: PostgreSQL would refuse 61 with an error.
    result = runner.invoke(args=["create-author", "g" * 61], input="s3greta-lunga\n")
    assert result.exit_code != 0
    assert "da 1 a 60 caratteri" in result.output
    assert "Traceback" not in result.output
    fits = runner.invoke(args=["create-author", "g" * 60], input="s3greta-lunga\n")
    assert fits.exit_code == 0, fits.output


def test_create_author_again_changes_the_password(app, runner, client):
    runner.invoke(args=["create-author", "giulia"], input="prima-password\n")
    runner.invoke(args=["create-author", "giulia"], input="seconda-password\n")
    assert log_in(client, "giulia", "prima-password").status_code == 401
    assert log_in(client, "giulia", "seconda-password").status_code == 302


def test_a_username_in_greek_capitals_signs_in_and_is_found_again(app, runner, client):
    # PostgreSQL's lower() writes the final Σ as σ, Python as ς.
    for password in ("prima-password", "seconda-password"):
        result = runner.invoke(args=["create-author", "ΟΔΥΣΣΕΑΣ"], input=password)
        assert result.exit_code == 0, result.output
    assert log_in(client, "ΟΔΥΣΣΕΑΣ", "seconda-password").status_code == 302


def set_cookie(response, name: str) -> str:
    """The Set-Cookie header of ``response`` for the cookie ``name``."""
    headers = response.headers.getlist("Set-Cookie")
    return next(header for header in headers if header.startswith(f"{name}="))


def test_sign_in_and_out(app, client):
    add_author(app)
    response = log_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    cookie = set_cookie(response, "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert client.get("/admin/").status_code == 200

    # Logout is a POST with the token; a GET does nothing.
    assert client.get("/admin/logout").status_code == 405
    token = csrf_from(client, "/admin/")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_sign_in_goes_back_to_a_local_next_only(app, client):
    add_author(app)
    token = csrf_from(client, "/admin/login?next=/admin/comments?view=spam")
    form = {"username": "riccardo", "password": PASSWORD, "csrf_token": token}
    response = client.post("/admin/login", data={**form, "next": "//evil.example/"})
    assert response.headers["Location"] == "/admin/"
    client.post("/admin/logout", data={"csrf_token": csrf_from(client, "/admin/")})
    token = csrf_from(client, "/admin/login")
    response = client.post(
        "/admin/login",
        data={**form, "csrf_token": token, "next": "/admin/comments?view=spam"},
    )
    assert response.headers["Location"] == "/admin/comments?view=spam"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/comments?view=spam&page=2", "/admin/comments?view=spam&page=2"),
        ("https://evil.example/", "/fallback"),
        ("//evil.example/x", "/fallback"),
        ("/\\evil.example", "/fallback"),
        ("javascript:alert(1)", "/fallback"),
        ("", "/fallback"),
        (None, "/fallback"),
    ],
)
def test_safe_next_accepts_local_paths_only(target, expected):
    assert safe_next(target, "/fallback") == expected


def test_wrong_password_and_unknown_account_get_the_same_answer(app, client):
    add_author(app)
    wrong = log_in(client, "riccardo", "sbagliata-davvero")
    unknown = log_in(client, "nessuno", "sbagliata-davvero")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert INVALID in response.get_data(as_text=True)
    # The typed user name stays, the password never comes back.
    field = soup(wrong).find("input", attrs={"name": "password"})
    assert not field.get("value")
    # The refusal takes the focus, so a screen reader reads it; the title says it.
    assert soup(wrong).find(role="alert").has_attr("autofocus")
    assert soup(wrong).title.get_text().startswith("Errore: Accedi")
    assert soup(wrong).find("input", attrs={"name": "username"})["value"] == "riccardo"


def test_empty_sign_in_form_is_a_400_with_a_message(app, client):
    token = csrf_from(client, "/admin/login")
    response = client.post("/admin/login", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Campo obbligatorio." in response.get_data(as_text=True)


def test_five_failures_lock_the_account_even_with_the_right_password(app, client):
    add_author(app)
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"  # a different IP each
        assert log_in(client, "riccardo", "sbagliata-davvero").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    response = log_in(client)
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)


def test_five_failures_from_one_ip_lock_that_ip_for_every_account(app, client):
    add_author(app)
    add_author(app, "giulia")
    for n in range(5):
        assert log_in(client, f"utente{n}", "sbagliata-davvero").status_code == 401
    response = log_in(client, "giulia", PASSWORD)
    assert response.status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert log_in(other, "giulia", PASSWORD).status_code == 302


def test_an_ipv6_client_cannot_step_out_of_the_lock_within_its_slash_64(app, client):
    # One client holds the whole /64: a new address for each guess (each a
    # password hash of CPU) is the same client.
    add_author(app)
    add_author(app, "giulia")
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{n + 1:x}"
        assert log_in(client, f"utente{n}", "sbagliata-davvero").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::9"
    assert log_in(client, "giulia", PASSWORD).status_code == 429
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    assert log_in(neighbour, "giulia", PASSWORD).status_code == 302


def test_throttling_does_not_reveal_whether_the_account_exists(app, client):
    add_author(app)
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        log_in(client, "riccardo", "x-sbagliata")
        client.environ_base["REMOTE_ADDR"] = f"198.51.101.{n}"
        log_in(client, "fantasma", "x-sbagliata")
    client.environ_base["REMOTE_ADDR"] = "198.51.102.1"
    real = log_in(client, "riccardo", "x-sbagliata")
    ghost = log_in(client, "fantasma", "x-sbagliata")
    assert real.status_code == ghost.status_code == 429
    assert soup(real).select_one(".form-error").get_text() == THROTTLED
    assert soup(ghost).select_one(".form-error").get_text() == THROTTLED


def failed_sign_ins(app, username: str = "riccardo") -> int:
    """Recorded attempts against ``username`` from browsers it does not trust."""
    with app.test_request_context():
        stats = failure_counter().get_window_stats(
            failure_limit("login-account"), username
        )
    return MAX_FAILURES - stats.remaining


class Clock:
    """Stands in for the ``time`` module of the rate-limit storages."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def set_clock(monkeypatch, now: datetime) -> None:
    for storage in (localstore, dbstore):
        monkeypatch.setattr(storage, "time", Clock(now.timestamp()))


def test_refused_attempts_are_not_recorded(app, client):
    add_author(app)
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        assert log_in(client, "riccardo", "x-sbagliata").status_code == 401
    for n in range(10):
        client.environ_base["REMOTE_ADDR"] = f"198.51.101.{n}"
        assert log_in(client, "riccardo", "x-sbagliata").status_code == 429
    assert failed_sign_ins(app) == 5


def test_knocking_on_a_locked_account_does_not_extend_the_lock(
    app, client, monkeypatch
):
    add_author(app)
    start = datetime(2030, 1, 1, 12, 0)
    set_clock(monkeypatch, start)
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        assert log_in(client, "riccardo", "x-sbagliata").status_code == 401
    set_clock(monkeypatch, start + timedelta(minutes=10))
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"198.51.101.{n}"
        assert log_in(client).status_code == 429
    # Fifteen minutes after the failures, not after the refusals, it opens again.
    set_clock(monkeypatch, start + timedelta(minutes=16))
    client.environ_base["REMOTE_ADDR"] = "198.51.102.1"
    assert log_in(client).status_code == 302


def test_success_clears_the_account_failures(app, client):
    add_author(app)
    for _ in range(4):
        log_in(client, "riccardo", "x-sbagliata")
    assert log_in(client).status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf_from(client, "/admin/")})
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.8"
    for _ in range(4):
        assert log_in(other, "riccardo", "x-sbagliata").status_code == 401
    assert log_in(other).status_code == 302


AUTHOR_IP = "203.0.113.5"


def browser(app, ip: str = AUTHOR_IP, device: str | None = None):
    """A fresh browser at ``ip``, holding the device cookie ``device`` if given."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    if device is not None:
        client.set_cookie(DEVICE_COOKIE, device, path="/admin/login")
    return client


def device_of(client) -> str:
    """The device cookie ``client`` received when it signed in."""
    cookie = client.get_cookie(DEVICE_COOKIE, path="/admin/login")
    assert cookie is not None, "no device cookie"
    return cookie.value


def known_browser(app, username: str = "riccardo"):
    """A browser ``username`` signed in with, then out: it keeps its device cookie."""
    client = browser(app)
    assert log_in(client, username).status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf_from(client, "/admin/")})
    return client


def guess_from_elsewhere(app, username: str = "riccardo", times: int = 6) -> None:
    """Wrong passwords from new browsers, some at the author's own address."""
    for n in range(times):
        ip = AUTHOR_IP if n % 2 else f"198.51.100.{n}"
        assert log_in(browser(app, ip), username, "x-sbagliata").status_code in (
            401,
            429,
        )


def test_a_name_with_capitals_keeps_its_browsers_allowance(app):
    add_author(app, "GiuliaB")
    author = known_browser(app, "GiuliaB")
    guess_from_elsewhere(app, "GiuliaB")
    assert log_in(author, "GiuliaB").status_code == 302


def test_guesses_from_elsewhere_never_lock_out_a_browser_the_author_used(app):
    add_author(app)
    author = known_browser(app)
    guess_from_elsewhere(app)
    response = log_in(author)
    assert response.status_code == 302
    assert author.get("/admin/comments").status_code == 200
    # Browsers without the author's device cookie are still locked out.
    for ip in ("192.0.2.50", AUTHOR_IP):
        response = log_in(browser(app, ip))
        assert response.status_code == 429
        assert THROTTLED in response.get_data(as_text=True)


def test_a_browser_the_author_used_has_its_own_allowance(app):
    add_author(app)
    author = known_browser(app)
    for _ in range(5):
        assert log_in(author, "riccardo", "x-sbagliata").status_code == 401
    response = log_in(author)
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    # Its failures are its own: they lock neither the account nor the address.
    assert log_in(browser(app, AUTHOR_IP)).status_code == 302


def test_a_device_cookie_of_another_account_gives_no_allowance(app):
    add_author(app)
    add_author(app, "giulia")
    giulias = known_browser(app, "giulia")
    guess_from_elsewhere(app, "riccardo")
    guess_from_elsewhere(app, "giulia")
    # Giulia's browser is trusted for her account only.
    assert log_in(giulias, "riccardo").status_code == 429
    assert log_in(giulias, "giulia").status_code == 302


def test_a_forged_or_tampered_device_cookie_is_ignored(app):
    add_author(app)
    genuine = device_of(known_browser(app))
    claims = URLSafeTimedSerializer("test-secret-key", salt=DEVICE_COOKIE_SALT).loads(
        genuine
    )
    forged = URLSafeTimedSerializer("not-the-sites-key", salt=DEVICE_COOKIE_SALT).dumps(
        claims
    )
    tampered = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    guess_from_elsewhere(app)
    for device in (forged, tampered, "", "garbage"):
        assert log_in(browser(app, device=device)).status_code == 429
    assert log_in(browser(app, device=genuine)).status_code == 302


def test_a_device_cookie_gives_its_allowance_for_a_year_and_no_longer(app, monkeypatch):
    add_author(app)
    genuine = device_of(known_browser(app))
    a_year_on = time.time() + DEVICE_COOKIE_MAX_AGE
    with app.app_context():
        author = db.session.scalar(select(Author))
        # The browser comes back a minute before, then a minute after, a year.
        monkeypatch.setattr("itsdangerous.timed.time.time", lambda: a_year_on - 60)
        assert trusted_device(genuine, author)
        monkeypatch.setattr("itsdangerous.timed.time.time", lambda: a_year_on + 60)
        assert trusted_device(genuine, author) is None


@pytest.mark.parametrize("revocation", ["sign out everywhere", "new password"])
def test_revoking_sessions_takes_the_devices_allowance_back(app, runner, revocation):
    add_author(app)
    author = browser(app)
    assert log_in(author).status_code == 302
    old_device = device_of(author)
    password = PASSWORD
    if revocation == "sign out everywhere":
        press(author, soup(author.get("/admin/")), "Esci da tutti i dispositivi")
    else:
        password = "nuova-password"
        result = runner.invoke(args=["create-author", "riccardo"], input=password)
        assert result.exit_code == 0, result.output
    guess_from_elsewhere(app)
    stale = browser(app, device=old_device)
    assert log_in(stale, password=password).status_code == 429


def test_the_device_cookie_is_signed_httponly_strict_and_for_the_sign_in_form(app):
    add_author(app)
    client = browser(app)
    response = log_in(client)
    header = set_cookie(response, DEVICE_COOKIE)
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/admin/login", "Max-Age="):
        assert attribute in header
    assert "Secure" not in header
    with app.app_context():
        author = db.session.scalar(select(Author))
        assert trusted_device(device_of(client), author)


@pytest.mark.app_config(SITE_URL="https://blog.example")
def test_the_device_cookie_is_secure_on_an_https_site(app):
    add_author(app)
    client = browser(app)
    client.environ_base["wsgi.url_scheme"] = "https"
    # Flask-WTF wants a same-origin Referer on https, as browsers send it.
    client.environ_base["HTTP_REFERER"] = "https://localhost/admin/login"
    response = log_in(client)
    assert response.status_code == 302
    assert "Secure" in set_cookie(response, DEVICE_COOKIE)


ADMIN_PAGES = [
    "/admin/",
    "/admin/comments",
    "/admin/comments?view=pending",
    "/admin/comments/1",
    "/admin/posts",
    "/admin/posts/new",
    "/admin/posts/1",
    "/admin/posts/1/preview",
    "/admin/settings",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_readers_are_sent_to_the_sign_in_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_open_for_the_author_and_are_not_cached(author_client, url):
    response = author_client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert 'style="' not in response.get_data(as_text=True)
    # No inline script: a page's script is a file of the blog's own.
    for script in soup(response).find_all("script"):
        assert script["src"].startswith("/static/js/") and not script.string


def test_readers_cannot_act_even_with_a_valid_token(app, client):
    comment_id = add_comment(app)
    token = csrf_from(client, "/admin/login")
    response = client.post(
        f"/admin/comments/{comment_id}/action",
        data={"action": "approve", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    assert comment_status(app, comment_id) == "pending"


def test_a_post_written_after_the_session_ended_is_given_back(app, client):
    # Signed out meanwhile (another device's "Esci da tutti i dispositivi"):
    # the browser's token is still valid, so only the sign-in check sees it.
    token = csrf_from(client, "/admin/login")
    body = "Un articolo lungo, scritto per un'ora.\nSeconda riga."
    editor = {  # what the editor sends besides the text: chosen, not typed
        "revision": "2026-12-06T10:00:00.123456",
        "status": "draft",
        "kind": "post",
        "menu_order": "0",
        "comment_status": "open",
        "ping_status": "open",
        "save": "Salva",
    }
    response = client.post(
        "/admin/posts/new",
        data={
            "csrf_token": token,
            "title": "Bozza preziosa",
            "body": body,
            "category_names": "Idee",
            **editor,
        },
        headers={"Referer": "http://localhost/admin/posts/new"},
    )
    assert response.status_code == 403
    page = soup(response)
    assert "La sessione è terminata" in page.get_text()
    kept = {
        area.find_previous("label").get_text(): area.get_text().strip()
        for area in page.find_all("textarea")
    }
    assert kept == {"Titolo": "Bozza preziosa", "Testo": body, "Categorie": "Idee"}
    sign_in = page.find("a", string="Accedi di nuovo")
    assert sign_in["href"] == "/admin/login?next=/admin/posts/new"
    with app.app_context():
        assert (
            db.session.scalar(select(Post).where(Post.title == "Bozza preziosa"))
            is None
        )


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/admin/comments/{id}/action", {"action": "approve"}),
        ("/admin/comments/bulk", {"action": "approve", "ids": "{id}"}),
        ("/admin/comments/{id}/reply", {"text": "Grazie!"}),
        ("/admin/comments/{id}/edit", {"text": "Cambiato", "author_name": "X"}),
        ("/admin/comments/empty", {"status": "spam"}),
    ],
)
def test_forged_requests_are_refused_without_change(app, author_client, url, data):
    comment_id = add_comment(app)
    data = {k: v.format(id=comment_id) for k, v in data.items()}
    response = author_client.post(url.format(id=comment_id), data=data)
    assert response.status_code == 400
    assert comment_status(app, comment_id) == "pending"
    response = author_client.post(
        url.format(id=comment_id), data={**data, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert comment_status(app, comment_id) == "pending"


def test_an_author_cannot_edit_another_authors_post(app, client):
    add_author(app, "giulia")
    log_in(client, "giulia")
    with app.app_context():
        other = db.session.scalar(select(Post).order_by(Post.id))
        other_id, other_title = other.id, other.title
    # The seed's posts belong to riccardo, not to giulia.
    assert client.get(f"/admin/posts/{other_id}").status_code == 403
    token = csrf_from(client, "/admin/posts/new")
    response = client.post(
        f"/admin/posts/{other_id}",
        data={"title": "Rubato", "status": "draft", "csrf_token": token},
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Post, other_id).title == other_title


def test_the_lock_out_is_not_kept_in_a_workers_memory(app, client):
    # Each attempt as if another worker, or a recycled one, took it: the
    # per-process counters (local://) are empty every time.
    add_author(app)
    for n in range(MAX_FAILURES):
        limiter.limiter.storage.reset()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        assert log_in(client, "riccardo", "x-sbagliata").status_code == 401
    limiter.limiter.storage.reset()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    refused = log_in(client)
    assert refused.status_code == 429
    assert soup(refused).select_one(".form-error").get_text() == THROTTLED
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60 + 1


def test_a_burst_of_guesses_gets_five_passwords_checked(app, client, monkeypatch):
    # Attempts that all pass the test at the same moment, on several workers:
    # the test is made to pass every time, so only the count can refuse them.
    add_author(app)
    with app.test_request_context():
        counter = failure_counter()
    monkeypatch.setattr(counter, "test", lambda *args, **kwargs: True)
    checked = []
    monkeypatch.setattr(
        authors,
        "check_password_hash",
        lambda stored, password: checked.append(password) or False,
    )
    statuses = []
    for n in range(8):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        statuses.append(log_in(client, "riccardo", f"tentativo-{n}").status_code)
    assert statuses == [401] * MAX_FAILURES + [429] * 3
    assert checked == [f"tentativo-{n}" for n in range(MAX_FAILURES)]


def test_the_shared_counts_name_no_account_or_address(app, client):
    add_author(app)
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert log_in(client, "riccardo", "x-sbagliata").status_code == 401
    with app.app_context():
        keys = db.session.scalars(select(RateCounter.key)).all()
    assert len(keys) == 2
    assert not any("riccardo" in key or "198.51.100.7" in key for key in keys)


@pytest.mark.app_config(
    SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 1}
)
def test_counting_a_failure_never_waits_for_the_apps_own_pool(app, client):
    # The request holds a pooled connection while the failure is counted: a
    # count that asked the same pool for a second one would wait for itself.
    add_author(app)
    statuses = [log_in(client, "riccardo", "x-sbagliata").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
