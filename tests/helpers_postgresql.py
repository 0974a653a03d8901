"""A throwaway PostgreSQL server for the test session.

Debian's ``postgresql`` package (installed by ``scripts/test-services.sh``) puts
``initdb`` and ``pg_ctl`` under ``/usr/lib/postgresql/<version>/bin``. The server
lives in a temporary directory, listens only on a Unix socket there, runs with
fsync off, and is stopped and deleted at the end of the session.

``BLOG_TEST_POSTGRESQL_URL`` (an admin URL such as
``postgresql://postgres@/postgres?host=/run/postgresql``) uses an existing server
instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server could not be started."""


def _bin_dir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable(
        "initdb not found: install Debian's postgresql package "
        "(bash scripts/test-services.sh does it)"
    )


def _run_as() -> str | None:
    """The unprivileged user to run the server as when we are root (initdb refuses)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root and no 'postgres' user to run initdb")


class PostgresServer:
    """Owns one server process; ``url(dbname)`` gives SQLAlchemy URLs to it."""

    def __init__(self) -> None:
        self.tmpdir: str | None = None
        self.admin_url: URL
        self._started = False
        self._user: str | None = None

    def start(self) -> None:
        external = os.environ.get("BLOG_TEST_POSTGRESQL_URL")
        if external:
            self.admin_url = make_url(external).set(drivername="postgresql+psycopg")
            try:
                self._admin("SELECT 1")
            except psycopg.Error as error:
                raise PostgresUnavailable(f"{external}: {error}") from error
            return
        bin_dir = self._bin_dir = _bin_dir()
        user = self._user = _run_as()
        # Short path: the socket path must stay under ~100 characters.
        self.tmpdir = tempfile.mkdtemp(prefix="blogpg-", dir="/tmp")
        data = self._data = os.path.join(self.tmpdir, "data")
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.tmpdir, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        )
        options = (
            f"-k {self.tmpdir} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                data,
                "-l",
                os.path.join(self.tmpdir, "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        self._started = True
        self.admin_url = URL.create(
            "postgresql+psycopg",
            username="postgres",
            database="postgres",
            query={"host": self.tmpdir},
        )

    def _run(self, argv: list[str]) -> None:
        argv = self._argv(argv)
        result = subprocess.run(argv, capture_output=True, text=True, cwd="/")
        if result.returncode != 0:
            log = ""
            if self.tmpdir and os.path.exists(os.path.join(self.tmpdir, "server.log")):
                log = Path(self.tmpdir, "server.log").read_text(errors="replace")
            raise PostgresUnavailable(
                f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}{log}"
            )

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL string for database ``dbname`` on this server."""
        return self.admin_url.set(database=dbname).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        url = self.admin_url
        with psycopg.connect(
            dbname=url.database,
            user=url.username,
            password=url.password,
            host=url.query.get("host") or url.host,
            port=url.port,
            autocommit=True,
        ) as conn:
            conn.execute(sql)

    def create_database(self, prefix: str = "blog_test") -> str:
        """Create an empty database with a unique name; return the name."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, closing whatever still uses it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        if self._started:
            subprocess.run(
                self._argv(
                    [str(self._bin_dir / "pg_ctl"), "-D", self._data, "-m", "immediate"]
                    + ["-w", "stop"]
                ),
                capture_output=True,
                cwd="/",
            )
            self._started = False
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def _argv(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self._user, "--", *argv] if self._user else argv


@contextmanager
def new_database(request, backend: str, folder: Path, name: str) -> Iterator[str]:
    """A brand-new database with no tables on ``backend``, as a URL: a file in
    ``folder``, or a database of the session's server dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.sqlite3'}"
        return
    server = request.getfixturevalue("postgresql_server")
    database = server.create_database(f"blog_{name}")
    try:
        yield server.url(database)
    finally:
        server.drop_database(database)
