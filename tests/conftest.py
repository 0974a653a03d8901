"""Shared fixtures: an app built by the factory, seeded, on SQLite and PostgreSQL.

Every test that uses ``app`` (or ``client``, ``runner``, ``count_queries``) runs
twice, once per database backend. The PostgreSQL server is started once per
session (see ``helpers_postgresql``); its tables are created once and emptied
with TRUNCATE before each test, then reseeded.

A module adds config by overriding the ``app_config`` fixture or with
``@pytest.mark.app_config(KEY=value)``; ``@pytest.mark.backends("sqlite")``
limits a test to some backends.

Without a PostgreSQL server the suite fails; ``BLOG_TEST_POSTGRESQL=skip`` skips
the PostgreSQL runs instead (never in CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from helpers_admin import signed_in
from helpers_mail import Mailbox, smtp_server
from helpers_mentions import LocalSite, local_site
from helpers_postgresql import PostgresServer, PostgresUnavailable, new_database
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from blog import create_app
from blog.database import sql_outside_sqlalchemy
from blog.extensions import db
from blog.seed.loader import load_seed

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "app_config(**config): extra config for the app fixture"
    )
    config.addinivalue_line(
        "markers", "backends(*names): run only on these database backends"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        backends = marker.args if marker else BACKENDS
        metafunc.parametrize("db_backend", backends, indirect=True)


@pytest.fixture
def db_backend(request) -> str:
    """The database backend this test runs on: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture(scope="session")
def postgresql_server():
    """The session's PostgreSQL server (started on first use)."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as error:
        server.stop()
        in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
        if os.environ.get("BLOG_TEST_POSTGRESQL") == "skip" and not in_ci:
            pytest.skip(f"PostgreSQL unavailable (BLOG_TEST_POSTGRESQL=skip): {error}")
        pytest.fail(
            "Cannot start the test PostgreSQL server. Run `bash "
            "scripts/test-services.sh` (installs it) or set "
            f"BLOG_TEST_POSTGRESQL=skip to run on SQLite only.\n{error}",
            pytrace=False,
        )
    yield server
    server.stop()


class _SharedPostgresDatabase:
    """One database for all ``app`` tests: tables made once, emptied per test."""

    def __init__(self, server: PostgresServer) -> None:
        self.url = server.url(server.create_database())
        self.engine = create_engine(self.url, poolclass=NullPool)

    def reset(self) -> None:
        """Create missing tables, then empty them all and restart the ids."""
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with self.engine.begin() as conn:
            # A connection leaked by a test would make TRUNCATE wait forever.
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            db.metadata.create_all(conn)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def _shared_postgresql(postgresql_server) -> _SharedPostgresDatabase:
    return _SharedPostgresDatabase(postgresql_server)


@pytest.fixture
def app_config(request) -> dict:
    """Extra config for ``app``; override in a module or use the marker."""
    marker = request.node.get_closest_marker("app_config")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def database_url(request, db_backend, tmp_path) -> str:
    """An empty-or-emptied database of the current backend, as a URL."""
    if db_backend == "postgresql":
        shared = request.getfixturevalue("_shared_postgresql")
        shared.reset()
        return shared.url
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def empty_database_url(request, db_backend, tmp_path):
    """A brand-new database with no tables, dropped after the test."""
    with new_database(request, db_backend, tmp_path, "empty") as url:
        yield url


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    # scrypt costs ~0.2 s a hash here; one test checks it is the default.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "SITE_URL": "http://127.0.0.1:5000",
    # The background worker sends at once (when a test turns it on).
    "MAIL_GATHER_SECONDS": 0,
}


@pytest.fixture
def make_app():
    """Build another app with the test config (a second worker, other cookies)."""

    def make(**config):
        return create_app({**TEST_CONFIG, **config})

    return make


@pytest.fixture
def app(make_app, database_url, app_config):
    app = make_app(DATABASE_URL=database_url, **app_config)
    with app.app_context():
        db.create_all()
        load_seed()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def author_client(app, client):
    """A client signed in as the author ``riccardo`` through the sign-in form."""
    return signed_in(app, client)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class QueryCounter:
    """Counts SQL statements executed on the app's engine, or beside it.

    The page cache's version read runs on a plain DBAPI connection that
    SQLAlchemy's events do not see; it announces itself with a signal.
    """

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args) -> None:
        self.statements.append(statement)

    def outside_sqlalchemy(self, sender, statement: str, **_) -> None:
        if sender.engine is self.engine:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """Use as ``with count_queries() as counter:``; ``counter.count`` after."""

    @contextmanager
    def counting():
        with app.app_context():
            engine = db.engine
        counter = QueryCounter(engine)
        event.listen(engine, "before_cursor_execute", counter)
        sql_outside_sqlalchemy.connect(counter.outside_sqlalchemy)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)
            sql_outside_sqlalchemy.disconnect(counter.outside_sqlalchemy)

    return counting


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """A web server on 127.0.0.2, which the blog may reach (in the mention config)."""
    with local_site("127.0.0.2") as server:
        yield server


@pytest.fixture
def loopback_site() -> Iterator[LocalSite]:
    """A server on 127.0.0.1, forbidden to the blog: it must see no request."""
    with local_site("127.0.0.1") as server:
        yield server


@pytest.fixture
def mailbox(app) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 the app sends to; what it received."""
    with smtp_server() as box:
        app.config.update(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=box.port,
            MAIL_FROM="blog@nowmedia.example",
            MAIL_AUTHOR="moderazione@nowmedia.example",
        )
        yield box
