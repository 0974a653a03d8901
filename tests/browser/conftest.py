"""A real WSGI server (gunicorn) on 127.0.0.1 and Debian's chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers_servers import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AUTHOR_USERNAME = "riccardo"
AUTHOR_PASSWORD = "una-password-lunga-e-sicura"


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]

    def flask(self, *args: str, stdin: str | None = None) -> str:
        """Run a ``flask --app blog`` command against the server's database."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "blog", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout


@contextmanager
def running_blog(home: Path, **extra_env: str) -> Iterator[LiveServer]:
    """The blog under gunicorn with a fresh seeded SQLite database and one author."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BLOG_SECRET_KEY": "browser-tests-secret-key-0123456789",
        "BLOG_DATABASE_URL": f"sqlite:///{home / 'blog.sqlite3'}",
        "BLOG_SITE_URL": url,
        "BLOG_COMMENT_MIN_SECONDS": "0",
        "BLOG_COMMENT_FLOOD_SECONDS": "0",
        # Ten threads a page puts the seeded post's 12 responses on two pages.
        "BLOG_COMMENTS_PER_PAGE": "10",
        **extra_env,
    }
    server = LiveServer(url=url, env=env)
    server.flask("upgrade-db")
    server.flask("seed")
    server.flask("create-author", AUTHOR_USERNAME, stdin=AUTHOR_PASSWORD + "\n")
    log = open(home / "gunicorn.log", "w")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_answering(url + "/", process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The blog under gunicorn, shared by the browser tests."""
    with running_blog(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium; Playwright never downloads a browser of its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (cookies, storage) per test, with the page's CSP on."""
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    """A reader whose browser runs no JavaScript."""
    context = browser.new_context(locale="it-IT", java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, base_url: str) -> None:
    """Sign in through the real login form."""
    page.goto(base_url + "/admin/login")
    page.fill("#username", AUTHOR_USERNAME)
    page.fill("#password", AUTHOR_PASSWORD)
    page.click("#submit")
    page.wait_for_load_state()
    assert "/admin/login" not in page.url


@pytest.fixture
def author_page(browser, live_server):
    """A browser context where the author is signed in."""
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    sign_in(page, live_server.url)
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
