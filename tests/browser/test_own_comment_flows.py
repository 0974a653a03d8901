"""A reader edits, then deletes, their own comment without JavaScript (#14)."""

from __future__ import annotations

POST = "/chi-e-e-chi-non-e-il-community-manager/"


def test_a_reader_edits_then_deletes_their_comment(
    page_without_js, browser, live_server
):
    page = page_without_js
    page.goto(live_server.url + POST)
    page.fill("#author", "Ornella")
    page.fill("#email", "ornella@example.org")
    page.fill("#comment", "Un commento con un refusso.")
    page.click("#submit")
    page.wait_for_load_state()
    mine = page.locator("li.comment", has_text="Un commento con un refusso.")
    comment_id = mine.get_attribute("id")
    assert mine.locator(".comment-owner-links a").all_inner_texts() == [
        "Modifica",
        "Elimina",
    ]

    mine.locator(".comment-edit-link").click()
    page.wait_for_load_state()
    assert page.input_value("#comment") == "Un commento con un refusso."
    page.fill("#comment", "Un commento senza refusi.")
    page.click("#submit")
    page.wait_for_load_state()
    edited = page.locator(f"#{comment_id}")
    assert "Un commento senza refusi." in edited.inner_text()
    assert edited.locator(".comment-edited").inner_text() == "(modificato)"

    # Another browser sees neither the links nor (the comment is held) the comment.
    other = browser.new_context(locale="it-IT")
    try:
        stranger = other.new_page()
        stranger.goto(live_server.url + POST)
        assert stranger.locator(".comment-owner-links").count() == 0
    finally:
        other.close()

    edited.locator(".comment-delete-link").click()
    page.wait_for_load_state()
    assert "Un commento senza refusi." in page.inner_text(".comment-delete")
    page.click("#submit")
    page.wait_for_load_state()
    assert page.url.startswith(live_server.url + POST)
    assert page.locator(f"#{comment_id}").count() == 0
