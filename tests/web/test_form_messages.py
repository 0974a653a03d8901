"""Every message a form shows is Italian, WTForms' own messages included."""

from __future__ import annotations

import os
import re

import pytest
import wtforms
from helpers_admin import add_comment, press, soup
from helpers_comments import send_comment
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Post, Setting
from blog.web.forms import ITALIAN, MESSAGES, PLURAL_MESSAGES

POT = os.path.join(os.path.dirname(wtforms.__file__), "locale", "wtforms.pot")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%s")


def wtforms_entries() -> list[tuple[str, str | None]]:
    """(msgid, msgid_plural or None) of every message WTForms may write."""
    with open(POT, encoding="utf-8") as pot:
        found = re.findall(
            r'^msgid "(.+)"\n(?:msgid_plural "(.+)"\n)?', pot.read(), re.MULTILINE
        )
    return [(singular, plural or None) for singular, plural in found]


def wtforms_messages() -> list[str]:
    """Every English text of those messages, plurals included."""
    return [text for entry in wtforms_entries() for text in entry if text]


def english_fragments() -> set[str]:
    """The literal parts of WTForms' messages, long enough to mean English."""
    return {
        piece.strip()
        for message in wtforms_messages()
        for piece in PLACEHOLDER.split(message)
        if len(piece.strip()) >= 6
    }


def assert_italian(response, *messages: str) -> None:
    """The page shows ``messages`` and no text of WTForms' English messages."""
    text = soup(response).get_text()
    for message in messages:
        assert message in text
    assert [f for f in english_fragments() if f in text] == []


def errors_of(response, field: str) -> list[str]:
    page = soup(response)
    return [e.get_text() for e in page.select(f".field-{field} .field-error")]


def test_every_wtforms_message_has_an_italian_one():
    entries = wtforms_entries()
    assert len(entries) > 30  # the .pot was read
    for singular, plural in entries:
        catalogue = PLURAL_MESSAGES if plural else MESSAGES
        assert singular in catalogue, f"no Italian for {singular!r}"
    for english, italian in MESSAGES.items():
        assert sorted(PLACEHOLDER.findall(italian)) == sorted(
            PLACEHOLDER.findall(english)
        )
    for english, (one, many) in PLURAL_MESSAGES.items():
        placeholders = sorted(PLACEHOLDER.findall(english))
        assert sorted(PLACEHOLDER.findall(one)) == placeholders
        assert sorted(PLACEHOLDER.findall(many)) == placeholders


def test_plural_messages_agree_with_the_number():
    msgid = "Field cannot be longer than %(max)d character."
    plural = "Field cannot be longer than %(max)d characters."
    assert ITALIAN.ngettext(msgid, plural, 1) % {"max": 1} == (
        "Scrivi al massimo 1 carattere."
    )
    assert ITALIAN.ngettext(msgid, plural, 60) % {"max": 60} == (
        "Scrivi al massimo 60 caratteri."
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": ""}, "username", "Campo obbligatorio."),
        ({"username": "x" * 61}, "username", "Scrivi al massimo 60 caratteri."),
    ],
)
def test_sign_in_form(client, fields, field, message):
    page = soup(client.get("/admin/login"))
    response = press(client, page, "Accedi", password="qualcosa", **fields)
    assert response.status_code == 400
    assert message in errors_of(response, field)
    assert_italian(response, message)


def post_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Post))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"status": "archiviato"}, "status", "Scegli una delle opzioni proposte."),
        ({"comment_status": "forse"}, "comment_status", "Scegli una delle opzioni"),
        ({"published_at": "domani"}, "published_at", "Inserisci una data e un'ora"),
        ({"title": ""}, "title", "Campo obbligatorio."),
        ({"title": "T" * 301}, "title", "Scrivi al massimo 300 caratteri."),
    ],
)
def test_post_editor(app, author_client, fields, field, message):
    before = post_count(app)
    page = soup(author_client.get("/admin/posts/new"))
    changes = {"title": "Un titolo", "body": "<p>Testo</p>", **fields}
    response = press(author_client, page, "Salva", **changes)
    assert response.status_code == 400
    assert any(e.startswith(message) for e in errors_of(response, field))
    assert_italian(response, message)
    assert post_count(app) == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"comment_order": "casuale"}, "comment_order", "Scegli una delle opzioni"),
        ({"avatars": "foto"}, "avatars", "Scegli una delle opzioni proposte."),
        ({"max_links": "tre"}, "max_links", "Inserisci un numero intero."),
        ({"min_seconds": "2.5"}, "min_seconds", "Inserisci un numero intero."),
        ({"flood_seconds": ""}, "flood_seconds", "Inserisci un numero."),
    ],
)
def test_settings_form(app, author_client, fields, field, message):
    page = soup(author_client.get("/admin/settings"))
    # With a valid change beside the bad value: nothing at all may be stored.
    changes = {"thread_depth": "3", **fields}
    response = press(author_client, page, "Salva le impostazioni", **changes)
    assert response.status_code == 400
    assert any(e.startswith(message) for e in errors_of(response, field))
    assert_italian(response, message)
    with app.app_context():
        assert db.session.scalar(select(Setting).where(Setting.key == field)) is None
        assert db.session.get(Setting, "thread_depth") is None


def test_reply_form(app, author_client):
    parent = add_comment(app)
    page = soup(author_client.get(f"/admin/comments/{parent}"))
    response = press(author_client, page, "Approva e rispondi")
    assert response.status_code == 400
    assert_italian(response, "Scrivi il testo della risposta.")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"author_name": "N" * 246}, "Scrivi al massimo 245 caratteri."),
        ({"author_email": "non-una-email"}, "Indirizzo email non valido."),
        ({"author_url": "sito web"}, "Indirizzo web non valido."),
        ({"text": ""}, "Il testo non può essere vuoto."),
    ],
)
def test_quick_edit_form(app, author_client, fields, message):
    comment_id = add_comment(app)
    page = soup(author_client.get(f"/admin/comments/{comment_id}"))
    response = press(author_client, page, "Aggiorna commento", **fields)
    assert response.status_code == 400
    assert_italian(response, message)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"author": "", "email": "", "text": ""}, "Inserisci il tuo nome."),
        ({"email": "lucia"}, "Inserisci un indirizzo email valido."),
        ({"author": "L" * 246}, "Il nome può avere al massimo 245 caratteri."),
        ({"url": "ftp://example.org/"}, "deve essere un indirizzo che inizia"),
    ],
)
def test_comment_form(app, client, fields, message):
    text = fields.pop("text", "Bell'articolo, grazie.")
    response = send_comment(client, app, text=text, **fields)
    assert response.status_code == 422
    assert_italian(response, message)
