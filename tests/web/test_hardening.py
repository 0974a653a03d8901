"""Odd and hostile input found in review: every answer is clear, never a 500."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import feedparser
import pytest
from bs4 import BeautifulSoup
from helpers_admin import add_comment, signed_in
from helpers_comments import (
    POST_URL,
    filled_form,
    old_stamp,
    read_form,
    send_comment,
    soup,
)
from werkzeug.test import EnvironBuilder, run_wsgi_app

from blog.extensions import db
from blog.mentions.verify import parse_html, read_entry
from blog.models import Comment


def links(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [a["href"] for a in page.find_all("a", href=True)]


def test_stored_urls_of_another_scheme_are_never_links(app, client):
    add_comment(
        app, status="approved", author_name="Pippo", author_url="javascript:alert(1)"
    )
    add_comment(
        app,
        status="approved",
        type="pingback",
        source_url="javascript:alert(2)",
        content="estratto",
    )
    public = client.get(POST_URL).get_data(as_text=True)
    assert not [href for href in links(public) if "javascript" in href.lower()]
    admin = signed_in(app, app.test_client())
    queue = admin.get("/admin/comments").get_data(as_text=True)
    assert not [href for href in links(queue) if "javascript" in href.lower()]
    assert "javascript:alert(1)" in queue  # still shown to the author, as text


def test_a_webmention_h_card_cannot_give_a_javascript_url():
    html = (
        '<div class="h-entry"><a class="p-author h-card" '
        'href="javascript:alert(document.domain)">Mallory</a>'
        '<div class="e-content">Ciao</div></div>'
    )
    entry = read_entry(parse_html(html), "https://mallory.example.org/post")
    assert entry["author_name"] == "Mallory"
    assert entry.get("author_url", "") == ""
    fine = html.replace("javascript:alert(document.domain)", "https://ok.example.org/")
    entry = read_entry(parse_html(fine), "https://mallory.example.org/post")
    assert entry["author_url"] == "https://ok.example.org/"


def test_placeholders_differ_in_every_process():
    code = "from blog.pagecache import cache; print(cache.CSRF_PLACEHOLDER)"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 2


def test_a_comment_cannot_collect_visitors_tokens(app):
    # The best a commenter can do is learn the placeholder of another process
    # (a worker of their own): planted here, it must stay plain text.
    code = "from blog.pagecache.cache import CSRF_PLACEHOLDER; print(CSRF_PLACEHOLDER)"
    planted = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    add_comment(
        app,
        status="approved",
        content_html=f'<p><a href="https://x.example/?t={planted}">x</a></p>',
    )
    app.test_client().get(POST_URL)  # fills the cache
    second = app.test_client().get(POST_URL)
    html = second.get_data(as_text=True)
    token = BeautifulSoup(html, "html.parser").select_one("input[name=csrf_token]")[
        "value"
    ]
    assert token not in " ".join(links(html))
    assert f"https://x.example/?t={planted}" in links(html)


def test_control_characters_do_not_break_the_feeds(app, client):
    app.config["COMMENT_HOLD_ALL"] = False
    response = send_comment(
        client,
        app,
        "Testo\x0b con\x1b controlli",
        author="Evil\x0bName\x1b\r\nX-Header: 1",
    )
    assert response.status_code == 302
    with app.app_context():
        comment = db.session.query(Comment).order_by(Comment.id.desc()).first()
        assert comment.author_name == "EvilName X-Header: 1"
        assert comment.status == "approved"
    for url in ("/comments/feed/", POST_URL + "feed/"):
        feed = feedparser.parse(client.get(url).get_data())
        assert not feed.bozo, (url, feed.bozo_exception)
        assert any("EvilName" in entry.title for entry in feed.entries)


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/x%00y/", None),
        ("get", "/category/%00/", None),
        ("get", "/?page=1%00", None),
        ("post", "/webmention", {"source": "http://a\x00/", "target": "x"}),
        ("post", "/admin/login", {"username": "a\x00", "password": "x"}),
    ],
)
def test_nul_bytes_get_400(client, method, url, data):
    assert getattr(client, method)(url, data=data).status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "status", "stored"),
    [
        ("author", "Lu\x00cia", 302, "Lucia"),
        ("comment", "Ci\x00ao", 302, "Ciao"),
        ("email", "lucia\x00@example.org", 422, None),
        ("url", "https://lucia\x00.example/", 422, None),
        ("csrf_token", "\x00", 400, None),
    ],
)
def test_a_nul_in_the_comment_form_never_loses_the_text(
    app, client, field, value, status, stored
):
    # The form drops it from names and texts and refuses it in an address, so
    # the reader gets their comment back instead of a bare 400.
    action, data, post_id = read_form(client)
    data.update(author="Lucia", email="lucia@example.org", comment="Ciao")
    data["stamp"] = old_stamp(app, post_id)  # typed at a person's pace
    data[field] = value
    response = client.post(action, data=data)
    assert response.status_code == status
    with app.app_context():
        newest = db.session.query(Comment).order_by(Comment.id.desc()).first()
        if stored is None:
            assert newest.id == 12
            page = soup(response)
            assert page.select_one("#comment").get_text().strip() == "Ciao"
            assert page.select_one(".form-error, .error, [role=alert]") is not None
        else:
            assert (
                getattr(newest, "content" if field == "comment" else "author_name")
                == stored
            )


@pytest.mark.parametrize("path", ["/%2500/", "/x%2500y/feed/", "/static/%2500"])
def test_a_path_holding_a_nul_once_decoded_twice_is_missing(client, path):
    # The server decodes "%2500" to "%00", which the old addresses decode again.
    for _ in range(2):
        assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", [POST_URL, "/wp-admin/", "/category/x/"])
@pytest.mark.parametrize("cookie", ["a=\xff", "session=\xff", "comment_owner=\xe9"])
def test_a_cookie_header_that_is_not_utf8_is_read_as_flask_reads_it(
    app, client, path, cookie
):
    # Raw bytes, as a browser extension or a script may send them; the page
    # cache reads the cookies before Flask and must not fail where it would not.
    # Sent past the test client, whose cookie jar would replace the header.
    expected = client.get(path).status_code
    for _ in range(2):
        environ = EnvironBuilder(path=path).get_environ()
        environ["HTTP_COOKIE"] = cookie
        _body, status, _headers = run_wsgi_app(app, environ)
        assert int(status.split()[0]) == expected


@pytest.mark.app_config(PROXY_FIX=1)
def test_a_forwarded_client_address_with_a_nul_gets_400(app, client):
    action, data, _post_id = read_form(client)
    data.update(author="Lucia", email="lucia@example.org", comment="Ciao")
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.7\x00"}
    assert client.post(action, data=data, environ_overrides=forged).status_code == 400


def test_a_user_agent_with_a_nul_is_stored_without_it(app, client):
    client.environ_base["HTTP_USER_AGENT"] = "a\x00b"
    response = send_comment(client, app, "Ciao")
    assert response.status_code == 302
    with app.app_context():
        comment = db.session.query(Comment).order_by(Comment.id.desc()).first()
        assert comment.user_agent == "ab"


@pytest.mark.parametrize("path", ["/", POST_URL, "/category/x/"])
def test_a_query_of_raw_bytes_that_are_not_utf8_gets_400(client, path):
    # As a server that passes the request line's bytes on would send them.
    response = client.get(path, environ_overrides={"QUERY_STRING": "s=\xff"})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["x" * 64, "a..b", "."])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/healthz"), ("get", "/non-esiste/"), ("post", POST_URL + "comment")],
)
def test_a_host_no_link_can_be_built_for_gets_a_bare_400(client, host, method, path):
    response = getattr(client, method)(path, headers={"Host": host})
    assert response.status_code == 400
    page = soup(response)
    assert page.h1.get_text() == "Richiesta non valida"
    assert not page.select("a[href]")  # not one address could be written


@pytest.mark.app_config(PROXY_FIX=1)
def test_a_forwarded_host_no_link_can_be_built_for_gets_a_bare_400(client):
    response = client.get("/non-esiste/", headers={"X-Forwarded-Host": "x" * 64})
    assert response.status_code == 400
    assert "Richiesta non valida" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/comment/9999999999/",
        "/comment/" + "9" * 23 + "/",
    ],
)
def test_huge_ids_are_not_found(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # Odd list arguments are ignored: the first page, every post.
        ("/admin/comments?page=²", 200),
        ("/admin/comments?post=²", 200),
        ("/admin/comments?post=" + "9" * 30, 200),
        ("/admin/posts?page=²", 200),
        # Ids no row can have are missing pages, not errors.
        ("/admin/comments/9999999999", 404),
        ("/admin/posts/" + "9" * 23, 404),
    ],
)
def test_odd_admin_arguments(app, url, status):
    client = signed_in(app, app.test_client())
    assert client.get(url).status_code == status


@pytest.mark.parametrize("bad", ["http://[::1", "http://[", "http://a:99999/"])
def test_malformed_webmention_urls_get_400(client, bad):
    response = client.post("/webmention", data={"source": bad, "target": bad})
    assert response.status_code == 400


def test_the_missing_slash_redirect_stays_on_the_site_whatever_the_host(client):
    response = client.get(
        POST_URL.rstrip("/") + "?x=1", headers={"Host": "evil.example"}
    )
    assert response.status_code == 308
    assert response.headers["Location"] == POST_URL + "?x=1"


def test_only_the_redirect_gets_a_location(client):
    refused = client.get(POST_URL.rstrip("/") + "?x=%00")
    assert refused.status_code == 400
    assert "Location" not in refused.headers


def test_a_refused_method_says_which_are_allowed(client):
    response = client.put("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "Metodo non consentito" in response.get_data(as_text=True)


def test_a_field_sent_as_a_file_gets_the_form_back_not_a_500(app, client):
    # No form of the blog takes files: a text field sent as a file part is
    # missing, and the rest of what the reader typed comes back.
    action, data, post_id = read_form(client)
    data.update(
        author="Lucia", email="lucia@example.org", stamp=old_stamp(app, post_id)
    )
    data["comment"] = (io.BytesIO(b"testo"), "commento.txt")
    response = client.post(action, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#author")["value"] == "Lucia"
    assert page.select_one("#comment-error, .form-error, [role=alert]") is not None


@pytest.mark.parametrize(
    "body", ['{"comment": 5, "author": ["x"]}', '"x"', "[" * 100_000 + "]" * 100_000]
)
def test_a_json_body_gets_400_not_a_500(app, client, body):
    action, data, _ = read_form(client)
    response = client.post(
        action,
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": data["csrf_token"]},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(Comment).count() == 12


def test_the_sign_in_form_with_a_file_part_gets_400(app):
    client = app.test_client()
    page = soup(client.get("/admin/login"))
    token = page.select_one("input[name=csrf_token]")["value"]
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": token,
            "username": (io.BytesIO(b"x"), "u"),
            "password": "x",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


class Unread(io.BytesIO):
    """A request body that notes whether anything read it."""

    read_at_all = False

    def read(self, *args) -> bytes:
        self.read_at_all = True
        return super().read(*args)


def test_a_post_nothing_answers_is_not_read(app):
    body = Unread(b"a&" * 200_000)
    builder = EnvironBuilder(
        path="/wp-login.php",
        method="POST",
        data=body.getvalue(),
        content_type="application/x-www-form-urlencoded",
    )
    environ = builder.get_environ()
    environ["wsgi.input"] = body
    _, status, _ = run_wsgi_app(app.wsgi_app, environ)
    assert status.startswith("404")
    assert not body.read_at_all


def test_a_form_of_more_fields_than_any_page_has_gets_413(app):
    # Parsing a million empty fields took a second of CPU, before any check
    # of who sent them.
    response = app.test_client().post(
        "/admin/posts/new",
        data=b"a&" * 5_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413


def test_a_form_body_that_cannot_be_read_gets_400(app):
    class Broken(io.BytesIO):
        def readinto(self, *args) -> int:
            return self.read()

        def read(self, *args) -> bytes:
            raise RuntimeError("as gunicorn's InvalidChunkSize")

    environ = EnvironBuilder(
        path="/admin/posts/new",
        method="POST",
        data=b"title=x",
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    environ["wsgi.input"] = Broken(b"title=x")
    del environ["CONTENT_LENGTH"]  # chunked, as gunicorn hands it over
    environ["wsgi.input_terminated"] = True
    _, status, _ = run_wsgi_app(app.wsgi_app, environ)
    assert status.startswith("400")


def test_a_nul_in_the_authors_reply_gives_the_text_back(app):
    author = signed_in(app, app.test_client())
    comment_id = add_comment(app)
    page = soup(author.get(f"/admin/comments/{comment_id}"))
    form = page.select_one(f"form[action$='/comments/{comment_id}/reply']")
    data = {
        field["name"]: field.get("value", "")
        for field in form.select("input[name]")
        if field.get("type") != "submit"
    }
    data["text"] = "Grazie Lucia, una risposta lunga e pensata\x00"
    response = author.post(form["action"], data=data)
    assert response.status_code == 400
    returned = soup(response)
    assert "NUL" in returned.get_text()
    kept = [area.get_text().strip() for area in returned.select("textarea")]
    assert "Grazie Lucia, una risposta lunga e pensata" in kept


def test_a_range_past_the_end_gets_an_italian_416(client):
    response = client.get("/static/css/blog.css", headers={"Range": "bytes=999999-"})
    assert response.status_code == 416
    assert soup(response).h1.get_text() == "Intervallo non disponibile"


def test_a_refused_form_token_is_logged_with_its_reason(app, client, caplog):
    action, data = filled_form(client, app, "Con un gettone sbagliato.")
    data["csrf_token"] = "non-un-gettone"
    with caplog.at_level(logging.INFO, logger="flask_wtf.csrf"):
        assert client.post(action, data=data).status_code == 400
    assert any("CSRF" in record.getMessage() for record in caplog.records)
