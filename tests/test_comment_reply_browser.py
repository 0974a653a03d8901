"""The reply script in a real browser: the form moves under the comment and back."""

from __future__ import annotations

import shutil
import threading

import pytest
from helpers_comments import POST_URL
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def browser_page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_reply_moves_the_form_and_cancel_brings_it_back(live_url, browser_page):
    page = browser_page
    page.goto(live_url + POST_URL)
    page.click("#comment-2 .comment-reply-link")
    assert page.evaluate("document.querySelector('#comment-2 > #respond') !== null")
    assert page.input_value("#comment_parent") == "2"
    assert page.text_content("#reply-title") == "Rispondi a Christian"
    assert page.is_visible("#cancel-comment-reply-link")
    assert "replytocom" not in page.url
    assert page.evaluate("document.activeElement.id") == "comment"
    page.click("#cancel-comment-reply-link")
    assert page.evaluate("document.querySelector('#comments ~ #respond') !== null")
    assert page.evaluate("document.querySelector('#respond').closest('li') === null")
    assert page.input_value("#comment_parent") == "0"
    assert page.text_content("#reply-title") == "Lascia un Commento"
    assert not page.is_visible("#cancel-comment-reply-link")
