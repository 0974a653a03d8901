"""The per-address budget of every POST endpoint: 429 (or a fault) with
Retry-After, decided before any SQL, other addresses unaffected."""

from __future__ import annotations

import io
import xmlrpc.client

import pytest
from helpers_admin import csrf_from, soup
from helpers_comments import old_stamp, read_form
from helpers_mentions import POST_SLUG

from blog.core.settings import ConfigValueError
from blog.extensions import db, limiter
from blog.web.postguard import _posted_form, read_body_first

pytestmark = pytest.mark.app_config(POST_LIMIT_PER_ADDRESS="2 per hour")

ENDPOINTS = [
    f"/{POST_SLUG}/comment",
    "/xmlrpc.php",
    "/webmention",
    "/admin/login",
]
OTHER = {"REMOTE_ADDR": "127.0.0.9"}


def token_for(client, path: str) -> str:
    """A valid CSRF token for the sign-in form, so its check lets the POST in."""
    return csrf_from(client, path) if path == "/admin/login" else ""


def post(client, path: str, token: str = "", **kwargs):
    if path == "/xmlrpc.php":
        body = xmlrpc.client.dumps(("a", "b"), "pingback.ping")
        return client.post(path, data=body, content_type="text/xml", **kwargs)
    data = {"source": "x", "target": "y", "username": "x", "password": "y"}
    return client.post(path, data=data | {"csrf_token": token}, **kwargs)


def assert_refused(path: str, response) -> None:
    assert int(response.headers["Retry-After"]) >= 1
    if path == "/xmlrpc.php":
        # Pingback clients read the fault code; the HTTP status stays 200.
        assert response.status_code == 200
        with pytest.raises(xmlrpc.client.Fault) as fault:
            xmlrpc.client.loads(response.data)
        assert fault.value.faultCode == 0x31
        assert fault.value.faultString == "Troppi ping: riprova più tardi."
    else:
        assert response.status_code == 429
        assert "riprova più tardi" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_over_budget_is_refused_before_any_sql(client, count_queries, path):
    token = token_for(client, path)
    for _ in range(2):
        assert post(client, path, token).status_code != 429
    with count_queries() as counter:
        response = post(client, path, token)
    assert_refused(path, response)
    assert counter.count == 0


@pytest.mark.parametrize("path", ENDPOINTS)
def test_other_addresses_and_reads_keep_their_budget(client, path):
    token = token_for(client, path)
    for _ in range(3):
        post(client, path, token)
    assert post(client, path, token, environ_base=OTHER).status_code != 429
    assert "Retry-After" not in client.get(path).headers


def test_a_refused_comment_keeps_what_was_typed(client, count_queries):
    path = f"/{POST_SLUG}/comment"
    typed = {"author": "Lucia", "email": "lucia@example.org", "comment": "Il mio testo"}
    for _ in range(2):
        client.post(path, data=typed)
    with count_queries() as counter:
        response = client.post(path, data=typed)
    assert counter.count == 0
    assert response.status_code == 429
    page = soup(response)
    assert page.select_one("#comment").get_text().strip() == "Il mio testo"
    assert page.select_one("#author")["value"] == "Lucia"
    assert page.select_one(".comment-refused a")["href"] == f"/{POST_SLUG}/"
    assert page.select_one("ol.commentlist") is None


def refused_comment_page(client, typed: dict[str, str]):
    """The page of a comment POST over the budget of two, as parsed HTML."""
    for _ in range(3):
        response = client.post(f"/{POST_SLUG}/comment", data=typed)
    assert response.status_code == 429
    return soup(response)


def test_a_field_left_empty_comes_back_empty(client):
    page = refused_comment_page(client, {"author": "Lucia", "url": ""})
    assert page.select_one("#author")["value"] == "Lucia"
    for field in ("#email", "#url"):
        assert page.select_one(field).get("value", "") == ""
    assert page.select_one("#comment").get_text().strip() == ""
    assert "refusal-blank" not in str(page)


def test_a_refused_reply_keeps_the_comment_it_answers(client):
    typed = {"author": "Lucia", "comment": "Rispondo", "comment_parent": "7"}
    page = refused_comment_page(client, typed)
    assert page.select_one("input[name=comment_parent]")["value"] == "7"
    assert page.select_one("#comment").get_text().strip() == "Rispondo"


@pytest.mark.app_config(
    POST_LIMIT_PER_ADDRESS="2 per hour", SITE_URL="http://localhost/blog"
)
def test_under_a_site_root_the_refused_comment_form_posts_inside_it(client):
    mounted = {"SCRIPT_NAME": "/blog"}
    for _ in range(3):
        response = client.post(
            f"/{POST_SLUG}/comment", data={"comment": "x"}, environ_base=mounted
        )
    assert response.status_code == 429
    page = soup(response)
    assert (
        page.select_one("form.comment-form")["action"] == f"/blog/{POST_SLUG}/comment"
    )
    assert page.select_one(".comment-refused a")["href"] == f"/blog/{POST_SLUG}/"


def test_the_ticked_boxes_come_back_ticked(client):
    typed = {"author": "Lucia", "comment": "Avvisami", "notify_all": "y"}
    page = refused_comment_page(client, typed | {"consent": "y"})
    assert page.select_one("#consent").has_attr("checked")
    assert page.select_one("#notify_all").has_attr("checked")
    assert not page.select_one("#notify_replies").has_attr("checked")
    # The next refusal, with no box ticked, is not given the first one's page.
    page = refused_comment_page(client, typed | {"notify_all": ""})
    assert [
        box for box in page.select("input[type=checkbox]") if box.get("checked")
    ] == []


def test_a_nul_typed_into_a_refused_form_stays_out_of_the_page(client):
    page = refused_comment_page(client, {"author": "Lu\x00cia", "comment": "ci\x00ao"})
    assert page.select_one("#author")["value"] == "Lucia"
    assert page.select_one("#comment").get_text().strip() == "ciao"


def test_accepted_requests_carry_no_retry_after(client):
    response = post(client, f"/{POST_SLUG}/comment")
    assert response.status_code != 429
    assert "Retry-After" not in response.headers


@pytest.mark.app_config(PING_LIMIT_PER_IP=1)
@pytest.mark.parametrize("path", ["/xmlrpc.php", "/webmention"])
def test_the_ping_limit_per_address_costs_no_sql(client, count_queries, path):
    post(client, path)
    with count_queries() as counter:
        response = post(client, path)
    if path == "/xmlrpc.php":
        with pytest.raises(xmlrpc.client.Fault) as fault:
            xmlrpc.client.loads(response.data)
        assert fault.value.faultCode == 0x31
    else:
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
    assert counter.count == 0


def test_the_budget_is_kept_in_front_of_flask(app, client):
    """An over-budget POST never becomes a Flask request: no hook, no session."""
    requests = []
    app.before_request(lambda: requests.append(1))
    path = f"/{POST_SLUG}/comment"
    for _ in range(2):
        post(client, path)
    seen = len(requests)
    response = post(client, path)
    assert response.status_code == 429
    assert len(requests) == seen
    assert "Set-Cookie" not in response.headers
    # The answer still carries the headers every page has.
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_refusal_echoes_typed_markup_as_text(client):
    path = f"/{POST_SLUG}/comment"
    typed = {
        "author": '"><script>alert(1)</script>',
        "comment": "</textarea><img src=x onerror=alert(1)>",
        "csrf_token": '"><b>',
    }
    for _ in range(3):
        response = client.post(path, data=typed)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    page = soup(response)
    assert page.select_one("#author")["value"] == typed["author"]
    assert page.select_one("#comment").get_text().strip() == typed["comment"]
    assert page.select_one("input[name=csrf_token]")["value"] == '"><b>'


@pytest.mark.app_config(POST_LIMIT_PER_ADDRESS="2 per hour", COMMENT_FLOOD_SECONDS=0)
def test_the_refusal_form_sends_the_comment_once_the_window_frees(app, client):
    path = f"/{POST_SLUG}/comment"
    _action, fields, post_id = read_form(client)
    typed = fields | {"author": "Lucia", "email": "lucia@example.org"}
    typed["stamp"] = old_stamp(app, post_id)  # typed at a person's pace
    for number in range(2):
        client.post(path, data=typed | {"comment": f"Prova {number}"})
    refused = client.post(path, data=typed | {"comment": "Il mio testo"})
    assert refused.status_code == 429
    form = soup(refused).select_one("form.comment-form")
    again = {
        field["name"]: field.get("value", "")
        for field in form.select("input[name]")
        if field.get("type") not in ("checkbox", "submit")
    }
    again["comment"] = form.select_one("textarea").get_text()
    limiter.limiter.storage.reset()  # the window ends
    response = client.post(form["action"], data=again)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/comment/")


@pytest.mark.app_config(PROXY_FIX=1, POST_LIMIT_PER_ADDRESS="2 per hour")
# The second pair: IPv4 clients as a dual-stack socket names them.
@pytest.mark.parametrize("prefix", ["", "::ffff:"])
def test_behind_the_proxy_each_client_address_has_its_own_budget(client, prefix):
    path = f"/{POST_SLUG}/comment"
    first = {"HTTP_X_FORWARDED_FOR": f"{prefix}203.0.113.7"}
    for _ in range(2):
        post(client, path, environ_base=first)
    assert post(client, path, environ_base=first).status_code == 429
    other = {"HTTP_X_FORWARDED_FOR": f"{prefix}203.0.113.8"}
    assert post(client, path, environ_base=other).status_code != 429


@pytest.mark.app_config(PROXY_FIX=1, POST_LIMIT_PER_ADDRESS="2 per hour")
def test_an_ipv6_client_has_one_budget_for_its_whole_64(client):
    # One IPv6 client holds a /64: counting each address would give it 2**64
    # budgets, one per address it picks.
    path = f"/{POST_SLUG}/comment"
    for n in range(2):
        post(client, path, environ_base={"HTTP_X_FORWARDED_FOR": f"2001:db8::{n}"})
    same_network = {"HTTP_X_FORWARDED_FOR": "2001:db8:0:0:ffff::9"}
    assert post(client, path, environ_base=same_network).status_code == 429
    other = {"HTTP_X_FORWARDED_FOR": "2001:db8:0:1::1"}
    assert post(client, path, environ_base=other).status_code != 429


def test_typed_text_naming_a_blank_of_the_page_comes_back_as_typed(client):
    typed = {"author": "refusal-blank-comment", "comment": "refusal-blank-author e poi"}
    page = refused_comment_page(client, typed)
    assert page.select_one("#author")["value"] == "refusal-blank-comment"
    comment = page.select_one("#comment").get_text().strip()
    assert comment == "refusal-blank-author e poi"


def _limiter_hooks(app) -> list:
    registries = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    )
    return [
        hook
        for registry in registries
        for hooks in registry.values()
        for hook in hooks
        if getattr(hook, "__self__", None) is limiter
        or limiter in getattr(hook, "args", ())
    ]


def test_flask_limiter_adds_nothing_around_a_request(app, client):
    # The blog declares no Flask-Limiter limit and counts with its storage
    # itself: a check around every request would look for limits not there.
    assert _limiter_hooks(app) == []
    statuses = [client.post(f"/{POST_SLUG}/comment").status_code for _ in range(3)]
    assert statuses[-1] == 429  # the budget still counts (2 an hour here)


@pytest.mark.app_config(RATELIMIT_DEFAULT="1 per minute")
def test_limits_an_operator_declares_in_flask_limiters_settings_still_hold(app, client):
    assert _limiter_hooks(app) != []
    assert [client.get("/robots.txt").status_code for _ in "ab"] == [200, 429]


def test_each_app_gets_the_flask_limiter_limits_of_its_own_config(app, make_app):
    # One limiter serves every app of the process: a limit another app's config
    # declared does not stay behind.
    strict = make_app(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_DEFAULT="1 per minute",
    )
    assert [strict.test_client().get("/robots.txt").status_code for _ in "ab"] == [
        200,
        429,
    ]
    loose = make_app(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_APPLICATION="100 per minute",
    )
    statuses = [loose.test_client().get("/robots.txt").status_code for _ in "abc"]
    assert statuses == [200, 200, 200]
    for made in (strict, loose):
        with made.app_context():
            db.engine.dispose()


def test_turning_flask_limiter_off_is_refused_at_start_up(app, make_app, client):
    # One line at start-up, as every other value of no use (no traceback).
    with pytest.raises(ConfigValueError, match="RATELIMIT_ENABLED"):
        make_app(RATELIMIT_ENABLED=False)
    # Nothing of that attempt stays with the apps made after it.
    again = make_app(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        POST_LIMIT_PER_ADDRESS="2 per hour",
    )
    statuses = [
        again.test_client().post(f"/{POST_SLUG}/comment").status_code for _ in range(3)
    ]
    assert statuses[-1] == 429
    with again.app_context():
        db.engine.dispose()


def test_a_method_written_in_lower_case_is_counted_too(client):
    # Werkzeug takes "post" for POST: the guard must as well.
    for _ in range(2):
        post(client, "/webmention")
    response = client.open("/webmention", method="post", data={"source": "x"})
    assert response.status_code == 429


def test_retry_after_says_when_the_budget_comes_back(client):
    # "2 per hour": the window ends within the hour, not in a second.
    for _ in range(2):
        post(client, "/webmention")
    response = post(client, "/webmention")
    assert response.status_code == 429
    assert 3500 < int(response.headers["Retry-After"]) <= 3601


class CountedReads(io.BytesIO):
    """A request body that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def form_environ(body: io.BytesIO) -> dict:
    return {
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body.getvalue())),
        "wsgi.input": body,
    }


def test_a_refusal_reads_no_big_body_and_parses_no_flood_of_fields():
    big = CountedReads(b"comment=" + b"x" * 200_000)
    assert not _posted_form(form_environ(big)) and big.bytes_read == 0
    flood = io.BytesIO(b"&".join(b"a%d=" % n for n in range(5000)))
    assert not _posted_form(form_environ(flood))


def test_the_guard_does_not_read_a_body_over_the_limit():
    # Flask answers it 413 without reading it: a 1 GB Content-Length must
    # not be read into memory first.
    body = CountedReads(b"x" * 5000)
    environ = {"CONTENT_LENGTH": "5000", "wsgi.input": body}
    assert read_body_first(environ, 1000)
    assert body.bytes_read == 0 and environ["wsgi.input"] is body
