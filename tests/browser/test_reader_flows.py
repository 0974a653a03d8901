"""What a reader does on the post page, in Debian's chromium against gunicorn."""

from __future__ import annotations

import itertools
import re

from helpers_wxr import WXR

from .conftest import running_blog

POST = "/chi-e-e-chi-non-e-il-community-manager/"
_names = itertools.count(1)


def fill_comment(page, text: str, name: str | None = None) -> str:
    """Type a comment as a reader would; returns the name used."""
    name = name or f"Lettrice {next(_names)}"
    page.fill("#author", name)
    page.fill("#email", f"{name.lower().replace(' ', '.')}@example.org")
    page.fill("#comment", text)
    return name


def test_reader_comments_and_sees_the_pending_notice(page, live_server):
    page.goto(live_server.url + POST)
    fill_comment(page, "Un punto di vista interessante, grazie!")
    page.click("#submit")
    page.wait_for_load_state()
    held = page.locator("li.comment", has_text="Un punto di vista interessante")
    assert held.count() == 1
    assert "Il tuo commento è in attesa di moderazione." in held.inner_text()
    assert re.search(r"#comment-\d+$", page.url)


def test_validation_error_keeps_what_was_typed(page, live_server):
    page.goto(live_server.url + POST)
    page.fill("#author", "Paolo")
    page.fill("#email", "non-è-una-email")
    page.fill("#url", "paolo.example.org")
    page.fill("#comment", "Testo lungo e pensato che non voglio perdere.")
    page.click("#submit")
    page.wait_for_load_state()
    assert page.input_value("#author") == "Paolo"
    assert page.input_value("#email") == "non-è-una-email"
    assert (
        page.input_value("#comment") == "Testo lungo e pensato che non voglio perdere."
    )
    assert page.locator(".field-email .field-error").count() == 1


def test_reply_with_javascript_moves_the_form(page, live_server):
    page.goto(live_server.url + POST)
    page.click("#comment-2 .comment-reply-link")
    assert page.evaluate("document.querySelector('#comment-2 #respond') !== null")
    assert page.input_value("#comment_parent") == "2"
    assert page.text_content("#reply-title") == "Rispondi a Christian"
    # The first field still empty takes the focus; the heading, a live
    # region, tells a screen reader whom the reply is for.
    assert page.evaluate("document.activeElement.id") == "author"
    assert page.get_attribute("#reply-title", "aria-live") == "polite"
    assert "replytocom" not in page.url
    page.click("#cancel-comment-reply-link")
    assert page.evaluate("document.querySelector('#respond').closest('li') === null")
    assert page.input_value("#comment_parent") == "0"
    page.click("#comment-2 .comment-reply-link")
    fill_comment(page, "Rispondo a Christian con JavaScript.")
    page.click("#submit")
    page.wait_for_load_state()
    reply = page.locator("#comment-2 li.comment", has_text="con JavaScript")
    assert reply.count() == 1
    assert "in attesa di moderazione" in reply.inner_text()


def test_reply_with_javascript_to_an_imported_comment(page, tmp_path):
    # Imported comments keep their old blog's anchors (#comment-10), which may
    # be other comments' ids here: the form goes under the comment clicked.
    (tmp_path / "blog").mkdir()
    with running_blog(tmp_path / "blog") as server:
        wxr = tmp_path / "caffe.xml"
        wxr.write_text(WXR, encoding="utf-8")
        server.flask("import-wxr", str(wxr))
        page.goto(server.url + "/caffe-e-community/")
        first = page.locator("li.comment").first
        link = first.locator(".comment-reply-link").first
        name = link.get_attribute("data-reply-to")
        link.click()
        assert "replytocom" not in page.url
        assert page.evaluate(
            "document.querySelector('#respond').closest('li')"
            " === document.querySelector('li.comment')"
        )
        assert page.text_content("#reply-title") == f"Rispondi a {name}"


def test_reply_without_javascript_uses_replytocom(page_without_js, live_server):
    page = page_without_js
    page.goto(live_server.url + POST)
    page.click("#comment-5 .comment-reply-link")
    assert "replytocom=5" in page.url
    assert (
        page.locator("meta[name=robots]").get_attribute("content").startswith("noindex")
    )
    assert page.text_content("#reply-title") == "Rispondi a Valentina"
    fill_comment(page, "Rispondo a Valentina senza JavaScript.")
    page.click("#submit")
    page.wait_for_load_state()
    reply = page.locator("#comment-5 li.comment", has_text="senza JavaScript")
    assert reply.count() == 1


def test_comment_pages_and_permalinks_across_pages(page, live_server):
    # Other tests add approved comments to the shared server: count, don't assume.
    page.goto(live_server.url + POST)
    assert page.locator("ol.commentlist > li").count() == 10
    page.click(".comment-navigation a[rel=next]")
    page.wait_for_load_state()
    assert "/comment-page-2/" in page.url
    assert page.locator("ol.commentlist").get_attribute("start") == "11"
    assert page.locator("ol.commentlist > li").count() >= 2
    last_id = page.locator("ol.commentlist > li").last.get_attribute("id")
    # A permalink to a comment on page 2 opens page 2 at that comment.
    page.goto(live_server.url + POST)
    page.goto(f"{live_server.url}/comment/{last_id.removeprefix('comment-')}/")
    assert "/comment-page-2/" in page.url and page.url.endswith(f"#{last_id}")
    assert page.locator(f"#{last_id}").is_visible()


def test_an_old_anchor_to_a_comment_on_another_page_finds_it(page, live_server):
    # WordPress without comment paging had every comment on the post's page:
    # an old link /post/#comment-N reaches the page here that holds it.
    page.goto(live_server.url + POST + "comment-page-2/")
    last_id = page.locator("ol.commentlist > li").last.get_attribute("id")
    page.goto(f"{live_server.url}{POST}#{last_id}")
    page.wait_for_url(f"**/comment-page-2/#{last_id}")
    assert page.locator(f"#{last_id}").is_visible()
    # An anchor no reader's page holds (a held or missing comment) stays put.
    page.goto(f"{live_server.url}{POST}#comment-999999")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}{POST}#comment-999999"
