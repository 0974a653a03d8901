"""A reader's own privacy requests: the link to their data is mailed to the
address, and whoever reads that mailbox downloads or erases what it left."""

from __future__ import annotations

import json
import re

import pytest
from helpers_admin import add_comment, csrf_from, soup
from helpers_comments import POST_URL
from helpers_mail import send_mail, signed_days_ago
from sqlalchemy import select

from blog.comments.personal_data import ANONYMOUS
from blog.extensions import db
from blog.models import Block, Comment, ConfirmedAddress

PAGE = "/i-tuoi-dati/"
EMAIL = "lucia@example.org"
LINK = re.compile(r"https?://\S+/i-tuoi-dati/[\w.-]+")


@pytest.fixture
def lucia(app) -> int:
    """Lucia's published comment."""
    return add_comment(
        app,
        status="approved",
        author_name="Lucia Verdi",
        author_email=EMAIL,
        author_ip="192.0.2.10",
        content="Il mio commento",
        content_html="<p>Il mio commento</p>",
    )


def ask(client, email: str):
    token = csrf_from(client, PAGE)
    return client.post(PAGE, data={"csrf_token": token, "email": email})


def mailed_link(app, mailbox, email: str = EMAIL) -> str:
    send_mail(app)
    [mail] = mailbox.to(email)
    path = LINK.search(mail.text).group(0).split("://", 1)[1]
    return path[path.index("/") :]


def test_the_link_is_mailed_to_the_address_and_opens_its_data(
    app, client, mailbox, lucia
):
    response = ask(client, "Lucia@Example.org")
    assert response.status_code == 200
    assert "riceverà tra poco l'email" in soup(response).get_text()
    assert mailbox.received == []  # sent by the outbox, not in the request
    link = mailed_link(app, mailbox)
    # Opening the link (a mail scanner does) shows the address, changes nothing.
    page = client.get(link)
    assert page.status_code == 200
    assert EMAIL in soup(page).get_text()
    assert page.headers["Cache-Control"].startswith("private")
    token = soup(page).select_one("input[name=csrf_token]")["value"]
    export = client.post(link, data={"csrf_token": token, "export": "1"})
    assert export.mimetype == "application/json"
    assert "attachment" in export.headers["Content-Disposition"]
    [comment] = json.loads(export.get_data())["comments"]
    assert (comment["text"], comment["ip"]) == ("Il mio commento", "192.0.2.10")


def test_erasing_through_the_link_asks_for_confirmation_then_erases(
    app, client, mailbox, lucia
):
    ask(client, EMAIL)
    link = mailed_link(app, mailbox)
    token = soup(client.get(link)).select_one("input[name=csrf_token]")["value"]
    unconfirmed = client.post(link, data={"csrf_token": token, "submit": "1"})
    assert unconfirmed.status_code == 400
    assert "Conferma la cancellazione." in soup(unconfirmed).get_text()
    erased = client.post(
        link, data={"csrf_token": token, "confirm": "y", "delete_texts": "y"}
    )
    assert erased.status_code == 200
    assert "Dati cancellati" in soup(erased).h1.get_text()
    with app.app_context():
        comment = db.session.get(Comment, lucia)
        assert (comment.author_name, comment.author_email, comment.author_ip) == (
            ANONYMOUS,
            "",
            "",
        )
    assert "Il mio commento" not in client.get(POST_URL).get_data(as_text=True)


@pytest.mark.parametrize("status", ["pending", "spam", None])
def test_an_address_readers_never_saw_gets_no_mail_and_the_page_says_the_same(
    app, client, mailbox, status
):
    # A held or spam comment's address, or one never used: the blog does not
    # write to it, and the asker cannot tell it from a known one.
    if status is not None:
        add_comment(app, status=status, author_email=EMAIL)
    response = ask(client, EMAIL)
    assert response.status_code == 200
    assert "riceverà tra poco l'email" in soup(response).get_text()
    send_mail(app)
    assert mailbox.to(EMAIL) == []


def test_a_mailbox_gets_three_links_a_day_in_any_spelling(app, mailbox, lucia):
    for n, spelling in enumerate(
        [EMAIL, "LUCIA@example.org", "lucia+a@example.org", EMAIL, EMAIL]
    ):
        # Each from its own network: the sender's budget is not what stops it.
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        ask(client, spelling)
    send_mail(app)
    assert len(mailbox.received) == 3


def test_a_link_older_than_a_day_says_how_to_get_another(app, client, lucia):
    old = signed_days_ago(app, "data", EMAIL, 1.1)
    response = client.get(f"{PAGE}{old}")
    assert response.status_code == 410
    assert "/i-tuoi-dati/" in soup(response).get_text()


def test_a_link_not_signed_by_the_blog_opens_nothing(app, client, lucia):
    forged = signed_days_ago(app, "manage", EMAIL, 0)  # another purpose's token
    assert client.get(f"{PAGE}{forged}").status_code == 403


def test_every_page_leads_to_the_request(client):
    footer = soup(client.get("/")).select_one(".site-footer")
    assert footer.find("a", string="I tuoi dati")["href"] == PAGE


def test_an_invalid_address_gets_the_form_back_with_it(client):
    response = ask(client, "non-un-indirizzo")
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("#email")["value"] == "non-un-indirizzo"
    assert "Inserisci un indirizzo email valido." in page.get_text()


def test_a_blocked_writer_erasing_their_data_leaves_the_authors_block(
    app, client, mailbox, lucia
):
    # The author's blocks and reasons are the author's notes: a reader's own
    # request neither shows them nor lifts them (the author's request does).
    with app.app_context():
        db.session.add(Block(kind="email", value=EMAIL, reason="troll, insulta tutti"))
        db.session.get(Comment, lucia).moderation_reason = "parola da moderare"
        db.session.commit()
    ask(client, EMAIL)
    link = mailed_link(app, mailbox)
    token = soup(client.get(link)).select_one("input[name=csrf_token]")["value"]
    export = client.post(link, data={"csrf_token": token, "export": "1"})
    text = export.get_data(as_text=True)
    assert "troll" not in text and "parola da moderare" not in text
    assert "blocks" not in json.loads(text)
    erased = client.post(link, data={"csrf_token": token, "confirm": "y"})
    assert "eventuale blocco" in soup(erased).get_text()  # said, not hidden
    with app.app_context():
        assert db.session.scalars(select(Block.value)).all() == [EMAIL]
        assert db.session.get(Comment, lucia).author_email == ""


def test_an_address_that_confirmed_our_mails_gets_the_link(app, client, mailbox):
    # No published comment (only a held one), but it confirmed the notices.
    add_comment(app, status="pending", author_email=EMAIL)
    with app.app_context():
        db.session.add(ConfirmedAddress(email=EMAIL))
        db.session.commit()
    ask(client, EMAIL)
    assert mailed_link(app, mailbox).startswith(PAGE)


def test_one_sender_has_links_sent_to_so_many_addresses_a_day(app, mailbox):
    # Ten addresses that commented here, then an eleventh: one sender, as
    # for confirmations, cannot make the blog write to every commenter.
    addresses = [f"lettore{n}@example.org" for n in range(11)]
    for address in addresses:
        add_comment(app, status="approved", author_email=address)
    client = app.test_client()
    for address in addresses:
        ask(client, address)
    send_mail(app)
    assert len(mailbox.received) == app.config["CONFIRMATIONS_PER_SENDER"] == 10


def test_the_pages_of_the_link_tell_no_other_site_their_address(
    app, client, mailbox, lucia
):
    ask(client, EMAIL)
    link = mailed_link(app, mailbox)
    for response in (client.get(link), client.get(PAGE)):
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "no-store" in response.headers["Cache-Control"]
