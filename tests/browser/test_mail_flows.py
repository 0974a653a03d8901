"""Mail as readers and the author live it: chromium, gunicorn and a real SMTP
server on 127.0.0.1; `flask send-mail` plays the part of cron."""

from __future__ import annotations

import pytest
from helpers_mail import Mailbox, smtp_server

from .conftest import running_blog, sign_in
from .test_pages import axe_violations, check_html

POST = "/chi-e-e-chi-non-e-il-community-manager/"
READER = "giulia@example.org"
AUTHOR = "moderazione@nowmedia.example"


@pytest.fixture(scope="module")
def mail_blog(tmp_path_factory):
    """A blog of its own that mails through a test SMTP server, and that server."""
    with smtp_server() as mailbox:
        env = {
            "BLOG_MAIL_SERVER": "127.0.0.1",
            "BLOG_MAIL_PORT": str(mailbox.port),
            "BLOG_MAIL_AUTHOR": AUTHOR,
            # The outbox is sent by the command below, when the test says so.
            "BLOG_BACKGROUND_WORKER": "off",
        }
        with running_blog(tmp_path_factory.mktemp("mail"), **env) as server:
            yield server, mailbox


def deliver(server, mailbox: Mailbox, address: str):
    server.flask("send-mail")
    [mail] = mailbox.to(address)
    mailbox.received.remove(mail)
    return mail


def test_subscribe_confirm_get_a_reply_and_unsubscribe(mail_blog, browser, tmp_path):
    server, mailbox = mail_blog
    pages = []
    inspector = browser.new_context(locale="it-IT").new_page()

    def checked(url: str) -> None:
        """No serious accessibility violation at ``url`` (opened by another
        browser, with JavaScript for axe: a GET changes nothing); kept for the
        HTML checker."""
        inspector.goto(url)
        assert axe_violations(inspector) == [], url
        pages.append(tmp_path / f"mail-page-{len(pages)}.html")
        pages[-1].write_text(inspector.content(), "utf-8")

    reader = browser.new_context(locale="it-IT", java_script_enabled=False)
    page = reader.new_page()
    page.goto(server.url + POST)
    page.fill("#author", "Giulia")
    page.fill("#email", READER)
    page.fill("#comment", "Mi avvisate quando qualcuno risponde?")
    page.get_by_label("Avvisami via email delle risposte al mio commento").check()
    page.click("#submit")
    page.wait_for_load_state()

    assert "Quando il commento sarà approvato" in page.inner_text("main")

    # The author approves from the held notice, without signing in …
    notice = deliver(server, mailbox, AUTHOR)
    author = browser.new_context(locale="it-IT")
    author_page = author.new_page()
    author_page.goto(server.url + notice.link("Approva"))
    checked(author_page.url)
    author_page.get_by_role("button", name="Approva").click()
    author_page.wait_for_load_state()
    assert "Fatto" in author_page.inner_text("main")

    # … which asks the reader to confirm, as nothing is mailed about a held comment.
    confirmation = deliver(server, mailbox, READER)
    page.goto(server.url + confirmation.link("Conferma"))
    checked(page.url)
    assert page.get_by_role("button", name="Conferma").is_visible()
    page.get_by_role("button", name="Conferma").click()
    page.wait_for_load_state()
    assert "Indirizzo confermato" in page.inner_text("main")

    # The author then replies from the queue's reply form.
    sign_in(author_page, server.url)
    author_page.goto(server.url + notice.link("Rispondi"))
    author_page.fill("textarea[name=text]", "Certo, eccoci!")
    author_page.locator("form", has_text="Risposta a Giulia").get_by_role(
        "button", name="Rispondi"
    ).click()
    author_page.wait_for_load_state()
    author.close()

    reply = deliver(server, mailbox, READER)
    assert "ha risposto al tuo commento" in reply.message["Subject"]
    assert "> Certo, eccoci!" in reply.text
    page.goto(server.url + reply.link("Leggi e rispondi"))
    assert "Certo, eccoci!" in page.inner_text("main")

    page.goto(server.url + reply.link("Le tue iscrizioni, per annullarne una o tutte"))
    assert page.locator("ul.subscriptions li").count() == 1
    checked(page.url)
    page.get_by_role("button", name="Annulla tutte le iscrizioni").click()
    page.wait_for_load_state()
    assert "Nessuna iscrizione" in page.inner_text("main")
    reader.close()
    inspector.context.close()
    assert [(m["message"], m.get("extract")) for m in check_html(map(str, pages))] == []
