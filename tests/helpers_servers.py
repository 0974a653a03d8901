"""Servers the tests start on 127.0.0.1: a free port for each."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (the system's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process, timeout: float = 20) -> None:
    """Return once 127.0.0.1:``port`` takes connections; fail if ``process`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                code = process.returncode
                raise RuntimeError(f"the server exited with {code}") from None
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def wait_until_answering(url: str, process, seconds: float = 30) -> None:
    """Return once ``url`` answers an HTTP GET; fail if ``process`` dies first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {url} after {seconds} s")


@contextmanager
def served_blog(
    database_url: str, home: Path, **env: str
) -> Iterator[tuple[int, subprocess.Popen]]:
    """The blog under gunicorn with the project's gunicorn.conf.py, on a new
    seeded database: (port, process). ``env`` adds or overrides variables."""
    port = free_port()
    # The shipped settings, whatever this shell exported for its own servers.
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BLOG_", "GUNICORN_"))
    }
    env = {
        **inherited,
        "BLOG_SECRET_KEY": "served-blog-secret-key-0123456789abcdef",
        "BLOG_DATABASE_URL": database_url,
        "BLOG_SITE_URL": f"http://127.0.0.1:{port}",
        "BLOG_MENTIONS_WORKER": "off",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": str(home / "access.log"),
        # Under ``home``: the SIGKILL below leaves no master to remove them.
        "BLOG_WRITE_SLOTS_DIR": str(home / "write-slots"),
        **env,
    }
    (home / "write-slots").mkdir(exist_ok=True)
    for command in ("upgrade-db", "seed"):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "blog", command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    with open(home / "gunicorn.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: SIGKILL reaches every worker
        )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/healthz", process)
            yield port, process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
