"""Production safety: secret key, security headers, HTTPS cookies, proxy, health."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy.exc
from bs4 import BeautifulSoup
from flask import request
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from blog import create_app
from blog.cli import database_errors_in_one_line
from blog.comments.mailtokens import TokenError, read_manage_token
from blog.core.settings import ConfigValueError
from blog.database import DatabaseConfigError, names_an_older_schema
from blog.extensions import db
from blog.pagecache.cache import site_release
from blog.web.security import InsecureConfigError, signing_keys
from blog.web.templating import compile_templates

POST_URL = "/chi-e-e-chi-non-e-il-community-manager/"
PAGES = [
    "/",
    POST_URL,
    "/category/social-media-marketing/",
    "/author/riccardo-scarascia/",
    "/missing/",
]


def production_app(tmp_path, **config):
    """An app configured as in production (no DEBUG, no TESTING)."""
    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            **config,
        }
    )


@pytest.mark.parametrize("key", [None, "", "dev-insecure-change-me", "short", "k" * 15])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, key):
    with pytest.raises(InsecureConfigError, match="BLOG_SECRET_KEY"):
        production_app(tmp_path, SECRET_KEY=key)


def test_a_key_of_16_characters_is_long_enough(tmp_path):
    assert production_app(tmp_path, SECRET_KEY="k" * 16).secret_key == "k" * 16


def test_the_command_line_says_why_it_refuses_in_one_line(tmp_path):
    env = {
        **os.environ,
        "BLOG_SECRET_KEY": "short",
        "BLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'blog.sqlite3'}",
        "BLOG_SECRET_KEY_FILE": str(tmp_path / "secret_key"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "blog", "upgrade-db"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Refusing to start: the secret key")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "blog.sqlite3").exists()


def run_blog(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python *args`` from the project's folder, as an operator runs it."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=Path(__file__).resolve().parents[2],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("BLOG_")},
            "BLOG_SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            "BLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'blog.sqlite3'}",
            # As an installed blog has it (else start-up warns about it first).
            "BLOG_SITE_URL": "https://blog.example.org",
            **env,
        },
        capture_output=True,
        text=True,
    )


def run_command(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``flask --app blog *args`` with a good secret key."""
    env.setdefault("BLOG_SECRET_KEY", "k" * 64)
    return run_blog(tmp_path, "-m", "flask", "--app", "blog", *args, **env)


def test_the_wsgi_module_says_why_it_refuses_in_one_line(tmp_path):
    # What gunicorn shows when it loads wsgi:app before forking its workers.
    result = run_blog(tmp_path, "-c", "import wsgi")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Refusing to start: no secret key is set")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [("notaurl", "Could not parse"), ("mysql://blog@127.0.0.1/blog", "MySQLdb")],
)
def test_an_unusable_database_url_is_refused_in_one_line(tmp_path, url, said):
    with pytest.raises(DatabaseConfigError, match=said):
        production_app(tmp_path, SECRET_KEY="k" * 64, DATABASE_URL=url)
    result = run_command(tmp_path, "upgrade-db", BLOG_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: DATABASE_URL (BLOG_DATABASE_URL, or instance/config.py) is not a "
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["seed", "process-mentions"])
def test_a_command_on_a_database_without_tables_says_what_to_run(tmp_path, command):
    # process-mentions comes from a blueprint: registered after the others.
    result = run_command(tmp_path, command)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the database has no blog tables yet")
    assert "flask --app blog upgrade-db" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_in_a_missing_folder_is_said_in_one_line(tmp_path):
    missing = tmp_path / "non-esiste" / "blog.sqlite3"
    result = run_command(
        tmp_path, "upgrade-db", BLOG_DATABASE_URL=f"sqlite:///{missing}"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert f"({missing})" in result.stderr and "may write" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_key_file_that_cannot_be_read_is_said_in_one_line(tmp_path):
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    result = run_blog(tmp_path, "-c", "import wsgi", BLOG_SECRET_KEY_FILE=str(folder))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"Error: Refusing to start: the secret key file {folder} cannot be read"
    )
    assert "Traceback" not in result.stderr


def test_an_instance_folder_that_cannot_be_made_is_said_in_one_line(monkeypatch):
    def refused(path, exist_ok=False):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("blog.os.makedirs", refused)
    with pytest.raises(DatabaseConfigError, match="cannot be made .Permission denied"):
        create_app({"TESTING": True, "SECRET_KEY": "k" * 64, "DATABASE_URL": None})


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("MAIL_SERVER = \n", "line 1 cannot be read: SyntaxError"),
        ("SITE_NAME = 'Blog'\nMAIL_PORT = porta\n", "line 2 cannot be read: NameError"),
    ],
)
def test_a_mistake_in_instance_config_is_said_in_one_line(monkeypatch, text, said):
    # The operator's instance/config.py, run as Flask runs it: its file and
    # line named in one message, whatever the mistake.
    def run_as_instance_config(config, filename, silent=False):
        path = os.path.join(config.root_path, filename)
        exec(compile(text, path, "exec"), {})  # noqa: S102

    monkeypatch.setattr("flask.Config.from_pyfile", run_as_instance_config)
    with pytest.raises(ConfigValueError, match=f"config.py, {said}"):
        create_app({"TESTING": True, "SECRET_KEY": "k" * 64})


def test_a_secret_key_or_password_of_digits_stays_text(tmp_path, monkeypatch):
    # BLOG_* values are read as JSON: 123… would be a number, "true" a bool.
    monkeypatch.setenv("BLOG_SECRET_KEY", "1234567890" * 3)
    monkeypatch.setenv("BLOG_MAIL_PASSWORD", "123456")
    monkeypatch.setenv("BLOG_SITE_NAME", "true")
    monkeypatch.setenv("BLOG_WRITE_SLOTS", "3")
    app = production_app(tmp_path)
    assert app.config["SECRET_KEY"] == "1234567890" * 3
    assert app.config["MAIL_PASSWORD"] == "123456"
    assert app.config["SITE_NAME"] == "true"
    assert app.config["WRITE_SLOTS"] == 3  # a number's setting stays a number


def test_a_yes_or_no_of_the_environment_is_read_as_one(tmp_path, monkeypatch):
    # "no" is not JSON: it would stay a string, and a true one.
    monkeypatch.setenv("BLOG_MAIL_USE_TLS", "no")
    assert production_app(tmp_path, SECRET_KEY="k" * 64).config["MAIL_USE_TLS"] is False
    monkeypatch.setenv("BLOG_MAIL_USE_TLS", "yes")
    assert production_app(tmp_path, SECRET_KEY="k" * 64).config["MAIL_USE_TLS"] is True


def test_numbers_from_a_file_or_the_environment_are_numbers(tmp_path):
    app = production_app(
        tmp_path, SECRET_KEY="k" * 64, PAGE_CACHE_SIZE="0256", BACKGROUND_WORKER=""
    )
    assert app.config["PAGE_CACHE_SIZE"] == 256
    assert app.config["BACKGROUND_WORKER"] is None  # set empty: the default


def test_a_weak_key_set_by_the_operator_is_refused_not_replaced(tmp_path):
    (tmp_path / "secret_key").write_text("f" * 64 + "\n")
    with pytest.raises(InsecureConfigError, match="shorter than 16"):
        production_app(tmp_path, SECRET_KEY="short")


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"COMMENT_THREAD_DEPTH": 50}, "COMMENT_THREAD_DEPTH=50 is outside 1-10"),
        ({"AVATARS": "bogus"}, "AVATARS='bogus' is not one of identicon"),
        ({"COMMENTS_PER_PAGE": "molti"}, "COMMENTS_PER_PAGE='molti' is not a whole"),
        ({"POST_LIMIT_PER_ADDRESS": "tanti"}, "POST_LIMIT_PER_ADDRESS='tanti'"),
        # A typo in a yes/no rule must not turn the rule off.
        ({"COMMENT_HOLD_ALL": "ture"}, "COMMENT_HOLD_ALL='ture' is neither yes nor"),
        ({"COMMENT_HOLD_ALL": "sì"}, "COMMENT_HOLD_ALL='sì' is neither yes nor"),
        ({"PAGE_CACHE_SIZE": -1}, "PAGE_CACHE_SIZE='?-1'? is not a whole number"),
        ({"FEED_ITEMS": "abc"}, "FEED_ITEMS='abc' is not a whole number"),
        ({"PROXY_FIX": "abc"}, "PROXY_FIX='abc' is not a whole number"),
        ({"WRITE_SLOTS": 20000}, "WRITE_SLOTS=20000 is outside 0-10000"),
        ({"PING_LIMIT_PER_IP": "abc"}, "PING_LIMIT_PER_IP='abc'"),
        ({"MAIL_PORT": "abc"}, "MAIL_PORT='abc' is not a whole number"),
        ({"REFUSAL_HOLD_SECONDS": "abc"}, "REFUSAL_HOLD_SECONDS='abc' is not a"),
        ({"MAIL_USE_TLS": "forse"}, "MAIL_USE_TLS='forse' is neither yes nor no"),
        ({"BACKGROUND_WORKER": "foo"}, "BACKGROUND_WORKER='foo' is not one of"),
        ({"SITE_URL": "blog.example.org"}, "SITE_URL='blog.example.org' is no http"),
        ({"PAGE_CACHE_SIZE": "²"}, "PAGE_CACHE_SIZE='²' is not a whole number"),
        ({"TIMEZONE": "Europa/Roma"}, "TIMEZONE='Europa/Roma' is no IANA time zone"),
        ({"OUTBOUND_PORTS": "http"}, "an OUTBOUND_\\* limit is no number"),
        ({"OUTBOUND_CONNECT_TIMEOUT": "abc"}, "an OUTBOUND_\\* limit is no number"),
        ({"OUTBOUND_MAX_BYTES": 0}, "the OUTBOUND_\\* limits must be positive"),
        ({"OUTBOUND_ONLY_ALLOWED": "forse"}, "OUTBOUND_ONLY_ALLOWED is neither"),
        (
            {"OUTBOUND_ALLOW": "127.0.0.2, 10.0.0.0/33"},
            "OUTBOUND_ALLOW holds '10.0.0.0/33', which is no network",
        ),
        (
            {"OUTBOUND_ALLOW": ["blog.example", "fd00::/129"]},
            "OUTBOUND_ALLOW holds 'fd00::/129'",
        ),
        ({"OUTBOUND_ALLOW": 5}, "OUTBOUND_ALLOW=5 is no list of hosts"),
    ],
)
def test_a_setting_of_no_use_is_refused_at_start_up(tmp_path, setting, said):
    with pytest.raises(ConfigValueError, match=said):
        production_app(tmp_path, SECRET_KEY="k" * 64, **setting)


def test_debug_and_testing_runs_may_keep_the_default_key(tmp_path):
    for flag in ("DEBUG", "TESTING"):
        app = production_app(tmp_path, **{flag: True})
        assert app.config["SECRET_KEY"] == "dev-insecure-change-me"


def test_a_configured_key_is_used(tmp_path):
    app = production_app(tmp_path, SECRET_KEY="k" * 64)
    assert app.config["SECRET_KEY"] == "k" * 64


@pytest.mark.parametrize(
    ("fallbacks", "kept"),
    [
        ("una-chiave-vecchia-0123456789", ["una-chiave-vecchia-0123456789"]),
        ("prima-0123456789abcdef, seconda-0123456789abc", None),
        (["una-chiave-vecchia-0123456789"], ["una-chiave-vecchia-0123456789"]),
    ],
)
def test_an_old_key_written_as_text_is_one_key_not_its_letters(
    tmp_path, fallbacks, kept
):
    # BLOG_SECRET_KEY_FALLBACKS=old-key reaches the config as a string.
    app = production_app(tmp_path, SECRET_KEY="k" * 64, SECRET_KEY_FALLBACKS=fallbacks)
    expected = kept or ["prima-0123456789abcdef", "seconda-0123456789abc"]
    assert app.config["SECRET_KEY_FALLBACKS"] == expected
    with app.test_request_context():
        assert signing_keys() == [*expected, "k" * 64]
        forged = URLSafeTimedSerializer("u", salt="blog.mail.manage").dumps("x@y.z")
        with pytest.raises(TokenError):
            read_manage_token(forged)


def test_a_trailing_comma_adds_no_empty_old_key(tmp_path):
    # An empty key would let anybody sign a cookie or a mail link. Production
    # refuses it at start-up; a debug or test run drops it.
    with pytest.raises(InsecureConfigError, match="SECRET_KEY_FALLBACKS"):
        production_app(
            tmp_path, SECRET_KEY="k" * 64, SECRET_KEY_FALLBACKS="vecchia-0123456789,"
        )
    app = production_app(
        tmp_path, TESTING=True, SECRET_KEY_FALLBACKS="vecchia-0123456789, "
    )
    assert app.config["SECRET_KEY_FALLBACKS"] == ["vecchia-0123456789"]


def test_an_old_key_of_digits_read_as_a_number_is_still_one_key(tmp_path):
    app = production_app(
        tmp_path, SECRET_KEY="k" * 64, SECRET_KEY_FALLBACKS=12345678901234567890
    )
    assert app.config["SECRET_KEY_FALLBACKS"] == ["12345678901234567890"]


def test_a_weak_old_key_is_refused_at_start_up(tmp_path):
    with pytest.raises(InsecureConfigError, match="SECRET_KEY_FALLBACKS"):
        production_app(tmp_path, SECRET_KEY="k" * 64, SECRET_KEY_FALLBACKS="corta")


def test_the_key_file_replaces_the_default_key(tmp_path):
    (tmp_path / "secret_key").write_text("f" * 64 + "\n")
    app = production_app(tmp_path)
    assert app.config["SECRET_KEY"] == "f" * 64


def test_every_response_carries_the_security_headers(client):
    for url in [*PAGES, "/static/css/blog.css", "/healthz"]:
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        # No plugin content, no <base> to move every relative link elsewhere,
        # no form sent to another site.
        assert "object-src 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "form-action 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_images_may_come_from_https_sites_but_nothing_else_does(client):
    # A moved-in post keeps its images where WordPress served them.
    policy = dict(
        (part.split()[0], part.split()[1:])
        for part in client.get("/").headers["Content-Security-Policy"].split("; ")
    )
    assert policy["img-src"] == ["'self'", "data:", "https:"]
    assert policy["default-src"] == ["'self'"]


def test_pages_have_no_inline_script_or_style(client):
    for url in PAGES:
        page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
        assert page.find("style") is None, url
        assert [s for s in page.find_all("script") if not s.get("src")] == [], url
        assert page.find(attrs={"style": True}) is None, url
        assert not [
            tag
            for tag in page.find_all(True)
            if any(name.startswith("on") for name in tag.attrs)
        ], url


@pytest.mark.app_config(SITE_URL="https://blog.example.org")
def test_cookies_are_secure_when_the_site_is_https(client):
    response = client.get(POST_URL)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_cookies_work_over_plain_http_in_development(client):
    response = client.get(POST_URL)
    assert "Secure" not in response.headers["Set-Cookie"]


def seen_by_the_app(app) -> str:
    """Client address and scheme the app sees for a request forwarded by a proxy."""
    app.add_url_rule(
        "/_probe", "probe", lambda: f"{request.remote_addr} {request.scheme}"
    )
    response = app.test_client().get(
        "/_probe",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    return response.get_data(as_text=True)


@pytest.mark.app_config(PROXY_FIX=1)
def test_behind_a_proxy_the_forwarded_client_address_is_used(app):
    assert seen_by_the_app(app) == "203.0.113.9 https"


def test_without_the_proxy_setting_forwarded_headers_are_ignored(app):
    assert seen_by_the_app(app) == "127.0.0.1 http"


def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "schema": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_reports_a_database_without_the_blogs_tables(tmp_path):
    # Started before upgrade-db, or given the wrong file: it answers, serves nothing.
    app = production_app(tmp_path, SECRET_KEY="k" * 64)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}


def test_healthz_reports_a_schema_older_than_the_code(tmp_path):
    # An older release's backup restored, or a start before upgrade-db: every
    # page would answer 503, so the monitor must not keep it in service.
    app = production_app(tmp_path, SECRET_KEY="k" * 64)
    assert app.test_cli_runner().invoke(args=["upgrade-db"]).exit_code == 0
    assert app.test_client().get("/healthz").status_code == 200
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '0010'"))
        db.session.commit()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "database": "ok",
        "schema": "behind",
    }


def test_a_database_file_the_server_makes_is_its_owners_alone(tmp_path):
    app = production_app(tmp_path, SECRET_KEY="k" * 64)
    with app.app_context():
        path = Path(db.engine.url.database)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/blog.sqlite3",
        "postgresql://nobody@/blog?host=/nonexistent-directory",
    ],
)
def test_healthz_reports_an_unreachable_database(tmp_path, url, caplog):
    app = production_app(tmp_path, SECRET_KEY="k" * 64, DATABASE_URL=url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    # One line a probe, saying why: a monitor polls all through an outage.
    [record] = [r for r in caplog.records if "Health check" in r.getMessage()]
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert "OperationalError" in record.getMessage()


@pytest.mark.backends("postgresql")
# The operator's own engine options keep the ping unless they turn it off.
@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_recycle": 600})
def test_pages_keep_working_after_the_database_server_drops_connections(app):
    client = app.test_client()
    assert client.get("/").status_code == 200
    with app.app_context():
        url = db.engine.url
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:  # as a PostgreSQL restart does
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 200]
    assert client.get(POST_URL).status_code == 200


@pytest.mark.backends("postgresql")
@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_timeout": 0.1})
def test_a_worker_takes_at_most_seven_pooled_postgresql_connections(app):
    # 32 threads per worker must not mean 32 connections per worker.
    with app.app_context():
        held = [db.engine.connect() for _ in range(7)]
        try:
            with pytest.raises(sqlalchemy.exc.TimeoutError):
                db.engine.connect()
        finally:
            for connection in held:
                connection.close()


def test_pages_render_from_templates_compiled_at_start_up(app, client, monkeypatch):
    # As wsgi.py does before the fork.
    assert compile_templates(app) == len(app.jinja_env.list_templates())
    site_release(app)

    def read_source(*args):
        raise AssertionError("a template was read after start-up")

    monkeypatch.setattr(app.jinja_env.loader, "get_source", read_source)
    for path in PAGES:
        assert client.get(path).status_code in (200, 404)


def test_the_served_app_compiles_its_templates_before_the_workers_fork(tmp_path):
    # gunicorn's preload imports wsgi.py in the master: what it compiled there,
    # every worker forked from it has.
    env = {
        **os.environ,
        "BLOG_SECRET_KEY": "compile-test-secret-key-0123456789abcdef",
        "BLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'blog.sqlite3'}",
    }
    code = (
        "import wsgi; env = wsgi.app.jinja_env;"
        "print(len(env.cache), len(env.list_templates()),"
        " 'page_release' in wsgi.app.extensions)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    compiled, templates, release = result.stdout.split()
    assert int(templates) > 20
    assert int(compiled) == int(templates)
    assert release == "True"


def test_a_command_that_lost_a_race_says_to_run_it_again():
    def import_meanwhile_done_by_another() -> None:
        failed = Exception("UNIQUE constraint failed")
        raise sqlalchemy.exc.IntegrityError("INSERT", {}, failed)

    with pytest.raises(click.ClickException) as refused:
        database_errors_in_one_line(import_meanwhile_done_by_another)()
    message = refused.value.message
    assert message.startswith("a row this command wrote exists already")
    assert message.endswith("was rolled back; run it again.")


@pytest.mark.parametrize(
    "statement", ["SELECT missing_column FROM post", "SELECT 1 FROM missing_table"]
)
def test_an_older_schema_is_told_apart_from_an_unreachable_database(app, statement):
    # Both databases' own words for a table or a column the schema lacks: the
    # log and the CLI then say to run upgrade-db, not that the database is down.
    with app.app_context(), pytest.raises(DBAPIError) as raised:
        db.session.execute(text(statement))
    assert names_an_older_schema(str(raised.value.orig))
    assert not names_an_older_schema("connection refused: is the server running?")
    assert not names_an_older_schema('database "blog" does not exist')


def test_the_server_on_the_local_site_url_says_so_at_start(tmp_path):
    # What gunicorn loads (wsgi.py); make run serves there on purpose, quietly.
    local = run_blog(
        tmp_path,
        "-c",
        "import wsgi",
        BLOG_SECRET_KEY="k" * 64,
        BLOG_SITE_URL="http://127.0.0.1:5000",
    )
    assert local.returncode == 0
    assert "SITE_URL is still http://127.0.0.1:5000" in local.stderr
    assert "BLOG_SITE_URL" in local.stderr
    public = run_blog(tmp_path, "-c", "import wsgi", BLOG_SECRET_KEY="k" * 64)
    assert public.returncode == 0 and "SITE_URL" not in public.stderr


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("memcache://127.0.0.1:11211", "unknown storage scheme"),
        ("redis://127.0.0.1:1", "redis"),
    ],
)
def test_an_unusable_rate_limit_storage_is_refused_in_one_line(tmp_path, uri, said):
    # A misspelt scheme, or a storage whose client library is not installed.
    result = run_command(tmp_path, "routes", BLOG_RATELIMIT_STORAGE_URI=uri)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Refusing to start: RATELIMIT_STORAGE_URI")
    assert said in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["abc", "0", "-2", "²"])
def test_gunicorn_settings_that_are_no_count_are_refused_in_one_line(tmp_path, value):
    # What gunicorn does with gunicorn.conf.py: 0 workers would listen and
    # answer nothing; text would end in a traceback.
    result = run_blog(
        tmp_path,
        "-c",
        "import runpy; runpy.run_path('gunicorn.conf.py')",
        GUNICORN_WORKERS=value,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Refusing to start: GUNICORN_WORKERS={value!r} is not a number >= 1."
    )


@pytest.mark.parametrize(
    ("server", "tls", "refused"),
    [
        ("smtp.example.org", False, True),
        ("smtp.example.org", True, False),
        ("127.0.0.1", False, False),  # a relay on this machine
        ("localhost", False, False),
        ("[::1]", False, False),
        ("127.mail.example.org", False, True),  # a name, not this machine
    ],
)
def test_a_mail_password_never_crosses_the_network_in_clear(
    tmp_path, server, tls, refused
):
    settings = {"MAIL_SERVER": server, "MAIL_USERNAME": "blog", "MAIL_USE_TLS": tls}
    if refused:
        with pytest.raises(ConfigValueError, match="MAIL_USERNAME is set without"):
            production_app(tmp_path, SECRET_KEY="k" * 64, **settings)
    else:
        production_app(tmp_path, SECRET_KEY="k" * 64, **settings)


def test_an_empty_timezone_is_the_default_one(tmp_path):
    # BLOG_TIMEZONE= in an EnvironmentFile: every page with a date gave a 500.
    app = production_app(tmp_path, SECRET_KEY="k" * 64, TIMEZONE="")
    assert app.config["TIMEZONE"] == "Europe/Rome"


def test_a_misspelt_setting_in_the_environment_is_pointed_out(tmp_path):
    result = run_blog(
        tmp_path,
        "-c",
        "import wsgi",
        BLOG_SECRET_KEY="k" * 64,
        BLOG_MAIL_SEVRER="smtp.example.org",
        BLOG_MAIL_SERVER="smtp.example.org",
    )
    assert result.returncode == 0
    assert "BLOG_MAIL_SEVRER is not a setting this blog reads" in result.stderr
    assert "BLOG_MAIL_SERVER is not" not in result.stderr


def test_a_misspelt_flask_setting_or_an_imported_name_is_pointed_out(tmp_path):
    # Flask defines every SESSION_ setting, and DEFAULT_TIMEZONE is a name
    # config.py uses, not a setting: neither is read from the environment.
    result = run_blog(
        tmp_path,
        "-c",
        "import wsgi",
        BLOG_SECRET_KEY="k" * 64,
        BLOG_SESSION_COOKIE_SECUR="true",
        BLOG_DEFAULT_TIMEZONE="UTC",
        BLOG_SESSION_COOKIE_SECURE="true",
    )
    assert result.returncode == 0
    for name in ("BLOG_SESSION_COOKIE_SECUR", "BLOG_DEFAULT_TIMEZONE"):
        assert f"{name} is not a setting this blog reads" in result.stderr
    assert "BLOG_SESSION_COOKIE_SECURE is not" not in result.stderr
