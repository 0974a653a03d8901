"""Privacy requests: export and erase by email, from the admin and the CLI (#14)."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from urllib.parse import unquote

import pytest
from helpers_admin import add_comment, csrf_from, page_version, soup
from helpers_comments import POST_URL, stored_comment, the_post
from sqlalchemy import select

from blog.comments.personal_data import ANONYMOUS, REMOVED_TEXT
from blog.extensions import db
from blog.models import Block, Comment, ConfirmedAddress, OutboxMessage, Subscription
from blog.privacy.requests import (
    PersonalDataSource,
    erase_personal_data,
    export_personal_data,
)

EMAIL = "lucia@example.org"


@pytest.fixture
def lucia(app) -> dict[str, int]:
    """Lucia's approved comment, her reply to it, and Marco's comment."""
    first = add_comment(
        app,
        status="approved",
        author_name="Lucia Verdi",
        author_email="Lucia@Example.org",
        author_url="https://lucia.example/",
        author_ip="192.0.2.10",
        user_agent="Firefox/120",
        content="Il mio primo commento",
        content_html="<p>Il mio primo commento</p>",
        created_at=datetime(2026, 11, 1, 10, 0),
    )
    reply = add_comment(
        app,
        status="pending",
        author_name="Lucia Verdi",
        author_email=EMAIL,
        author_ip="192.0.2.11",
        user_agent="Firefox/121",
        content="Una risposta",
        content_html="<p>Una risposta</p>",
        parent_id=first,
        depth=2,
        thread_id=first,
        created_at=datetime(2026, 11, 2, 10, 0),
    )
    other = add_comment(
        app,
        status="approved",
        author_name="Marco",
        author_email="marco@example.org",
        author_ip="192.0.2.99",
        content="Anch'io",
        content_html="<p>Anch'io</p>",
    )
    return {"first": first, "reply": reply, "other": other}


class TestExport:
    def test_everything_stored_about_the_address(self, app, lucia):
        with app.test_request_context():
            data = export_personal_data("LUCIA@example.org", "riccardo")
        assert data["email"] == "LUCIA@example.org"
        first, reply = data["comments"]
        assert first == {
            "id": lucia["first"],
            "type": "comment",
            "post": "Chi è e chi NON è il Community Manager?!",
            "post_url": f"http://127.0.0.1:5000{POST_URL}",
            "in_reply_to": None,
            "date": "2026-11-01T10:00:00Z",
            "edited": None,
            "status": "approved",
            "moderation_reason": "in attesa di approvazione",
            "text": "Il mio primo commento",
            "name": "Lucia Verdi",
            "email": "Lucia@Example.org",
            "website": "https://lucia.example/",
            "ip": "192.0.2.10",
            "user_agent": "Firefox/120",
        }
        assert (reply["in_reply_to"], reply["status"], reply["ip"]) == (
            lucia["first"],
            "pending",
            "192.0.2.11",
        )

    def test_the_admin_downloads_it_as_json(self, app, author_client, lucia):
        token = csrf_from(author_client, "/admin/privacy")
        response = author_client.post(
            "/admin/privacy/export",
            data={"export-email": EMAIL, "export-csrf_token": token},
        )
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="dati-personali-lucia@example.org.json"; '
            "filename*=UTF-8''dati-personali-lucia%40example.org.json"
        )
        texts = [c["text"] for c in json.loads(response.data)["comments"]]
        assert texts == ["Il mio primo commento", "Una risposta"]

    def test_an_address_outside_ascii_names_its_file_as_written(self, author_client):
        token = csrf_from(author_client, "/admin/privacy")
        response = author_client.post(
            "/admin/privacy/export",
            data={
                "export-email": "ΣΟΦΊΑ@παράδειγμα.δοκιμή",
                "export-csrf_token": token,
            },
        )
        disposition = response.headers["Content-Disposition"]
        plain, written = disposition.split("; ")[1:]
        # Old clients: the domain's A-label; the rest get the address itself.
        assert plain.endswith('@xn--hxajbheg2az3al.xn--jxalpdlp.json"')
        assert unquote(written.removeprefix("filename*=UTF-8''")) == (
            "dati-personali-σοφία@παράδειγμα.δοκιμή.json"
        )

    def test_a_bad_address_comes_back_with_a_message(self, app, author_client):
        token = csrf_from(author_client, "/admin/privacy")
        response = author_client.post(
            "/admin/privacy/export",
            data={"export-email": "non-una-email", "export-csrf_token": token},
        )
        assert response.status_code == 400
        page = soup(response)
        assert page.select_one("#export-email")["value"] == "non-una-email"
        assert "Inserisci un indirizzo email valido." in page.get_text()

    def test_the_cli_prints_the_same_json(self, app, runner, lucia):
        result = runner.invoke(args=["personal-data", "export", EMAIL])
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.output)["comments"]) == 2

    def test_only_the_author_may_ask(self, app, client, lucia):
        response = client.get("/admin/privacy")
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]


class TestErase:
    def test_the_sender_is_anonymised_the_texts_stay(self, app, lucia):
        version = page_version(app)
        with app.app_context():
            assert erase_personal_data(EMAIL, False, "riccardo") == {
                "comments": 2,
                "subscriptions": 0,
                "blocks": 0,
            }
        assert page_version(app) != version
        for key in ("first", "reply"):
            comment = stored_comment(app, lucia[key])
            assert (comment.author_name, comment.author_email) == (ANONYMOUS, "")
            assert (comment.author_url, comment.author_ip, comment.user_agent) == (
                "",
                "",
                "",
            )
        assert stored_comment(app, lucia["first"]).content == "Il mio primo commento"
        assert stored_comment(app, lucia["other"]).author_name == "Marco"
        assert stored_comment(app, lucia["other"]).author_ip == "192.0.2.99"

    def test_an_address_with_accented_capitals_is_found_in_any_case(self, app):
        # SQLite's own lower() folds ASCII letters only.
        anna = add_comment(
            app,
            status="approved",
            author_name="Änna Rossi",
            author_email="ÄNNA@Example.org",
            content="Ciao",
            content_html="<p>Ciao</p>",
        )
        with app.test_request_context():
            exported = export_personal_data("änna@example.org", "riccardo")
        assert [c["id"] for c in exported["comments"]] == [anna]
        with app.app_context():
            counts = erase_personal_data("Änna@EXAMPLE.org", False, "riccardo")
        assert counts["comments"] == 1
        assert stored_comment(app, anna).author_name == ANONYMOUS

    @pytest.mark.parametrize(
        ("stored", "asked"),
        [
            # PostgreSQL's lower() keeps a final Σ as σ where Python writes ς.
            ("ΣΟΦΙΑΣ@example.gr", "ΣΟΦΙΑΣ@example.gr"),
            ("İLKER@example.tr", "İLKER@example.tr"),
            # One mailbox, as IDNA reads the domain.
            ("victim@\uff42ücher.example", "VICTIM@xn--bcher-kva.example"),
            # Decomposed as some keyboards type it, asked for composed.
            ("a\u0308nna@example.org", "änna@example.org"),
        ],
    )
    def test_an_address_is_found_however_its_domain_is_spelled(
        self, app, stored, asked
    ):
        written = add_comment(app, status="approved", author_email=stored)
        with app.test_request_context():
            exported = export_personal_data(asked, "riccardo")
        assert [c["id"] for c in exported["comments"]] == [written]
        with app.app_context():
            counts = erase_personal_data(asked, False, "riccardo")
        assert counts["comments"] == 1
        assert stored_comment(app, written).author_email == ""

    def test_like_wildcards_in_a_request_match_only_themselves(self, app, lucia):
        with app.test_request_context():
            exported = export_personal_data(EMAIL.replace("u", "_", 1), "riccardo")
        assert exported["comments"] == []

    def test_a_blocks_reason_naming_the_address_goes_too(self, app):
        blocked = add_comment(
            app,
            status="spam",
            author_email=EMAIL,
            moderation_reason=f"indirizzo bloccato (email {EMAIL})",
        )
        with app.app_context():
            erase_personal_data(EMAIL, False, "riccardo")
        assert stored_comment(app, blocked).moderation_reason == ""

    def test_the_addresss_block_is_exported_and_lifted(self, app):
        with app.app_context():
            db.session.add_all(
                [
                    Block(kind="email", value=EMAIL, reason="troll"),
                    Block(
                        kind="ip", value="192.0.2.7", reason=f"troll {EMAIL.upper()}"
                    ),
                    Block(kind="domain", value="spam.example", reason="altro"),
                    # Another person's address that holds Lucia's.
                    Block(kind="ip", value="192.0.2.8", reason=f"da ma{EMAIL}x"),
                    Block(kind="ip", value="192.0.2.9", reason=f"altro x!{EMAIL}"),
                    # Hers, at the end of a sentence.
                    Block(kind="network", value="192.0.3.0/24", reason=f"è {EMAIL}."),
                ]
            )
            db.session.commit()
        with app.test_request_context():
            exported = export_personal_data("Lucia@Example.org", "riccardo")
        assert sorted((b["kind"], b["reason"]) for b in exported["blocks"]) == [
            ("email", "troll"),
            ("ip", f"troll {EMAIL.upper()}"),
            ("network", f"è {EMAIL}."),
        ]
        with app.app_context():
            counts = erase_personal_data(EMAIL, False, "riccardo")
            assert counts["blocks"] == 3
            db.session.commit()
            left = db.session.execute(select(Block.kind, Block.reason)).all()
        assert sorted(left) == [
            ("domain", "altro"),
            ("ip", f"altro x!{EMAIL}"),
            ("ip", f"da ma{EMAIL}x"),
            ("ip", "troll"),
            ("network", "è ."),
        ]

    def test_a_reason_typed_decomposed_names_the_address_too(self, app):
        with app.app_context():
            db.session.add(
                Block(kind="ip", value="192.0.2.7", reason="complici: a\u0308nna@x.it")
            )
            db.session.commit()
        with app.test_request_context():
            exported = export_personal_data("Änna@X.it", "riccardo")
        assert [b["kind"] for b in exported["blocks"]] == ["ip"]
        with app.app_context():
            erase_personal_data("Änna@X.it", False, "riccardo")
            db.session.commit()
            assert db.session.scalar(select(Block.reason)) == "complici:"

    def test_erased_on_the_page_and_in_the_feeds(self, app, client, lucia):
        client.get(POST_URL)  # a cached copy from before must not survive
        with app.app_context():
            erase_personal_data(EMAIL, False, "riccardo")
        for url in (POST_URL, f"{POST_URL}feed/", "/comments/feed/"):
            text = client.get(url).get_data(as_text=True)
            assert "Lucia Verdi" not in text and "lucia.example" not in text, url
            assert ANONYMOUS in text, url
            assert "Il mio primo commento" in text, url

    def test_the_texts_can_go_too(self, app, client, lucia):
        with app.app_context():
            erase_personal_data(EMAIL, True, "riccardo")
        assert stored_comment(app, lucia["first"]).content == REMOVED_TEXT
        for url in (POST_URL, "/comments/feed/"):
            text = client.get(url).get_data(as_text=True)
            assert "Il mio primo commento" not in text, url
        # The thread keeps its shape: Marco's comment is still there.
        assert stored_comment(app, lucia["reply"]).parent_id == lucia["first"]

    def test_the_admin_form_needs_a_confirmation(self, app, author_client, lucia):
        token = csrf_from(author_client, "/admin/privacy")
        response = author_client.post(
            "/admin/privacy/erase",
            data={"erase-email": EMAIL, "erase-csrf_token": token},
        )
        assert response.status_code == 400
        page = soup(response)
        assert "Conferma la cancellazione." in page.get_text()
        assert page.select_one("#erase-email")["value"] == EMAIL
        assert stored_comment(app, lucia["first"]).author_name == "Lucia Verdi"

    def test_the_admin_erases(self, app, author_client, lucia):
        token = csrf_from(author_client, "/admin/privacy")
        response = author_client.post(
            "/admin/privacy/erase",
            data={
                "erase-email": EMAIL,
                "erase-confirm": "y",
                "erase-delete_texts": "y",
                "erase-csrf_token": token,
            },
        )
        assert response.status_code == 302
        notice = soup(author_client.get(response.headers["Location"])).select_one(
            ".notice"
        )
        assert notice.get_text() == f"Dati di {EMAIL} cancellati: 2 record."
        assert stored_comment(app, lucia["reply"]).content == REMOVED_TEXT

    def test_the_cli_erases_with_or_without_the_texts(self, app, runner, lucia):
        result = runner.invoke(args=["personal-data", "erase", EMAIL])
        assert result.exit_code == 0, result.output
        assert result.output == "comments: 2\nsubscriptions: 0\nblocks: 0\n"
        assert stored_comment(app, lucia["first"]).content == "Il mio primo commento"
        add_comment(app, author_email=EMAIL, content="ancora")
        runner.invoke(args=["personal-data", "erase", EMAIL, "--delete-texts"])
        with app.app_context():
            texts = db.session.scalars(
                db.select(Comment.content).where(Comment.author_name == ANONYMOUS)
            ).all()
        # The first erase already removed the address from the first two.
        assert sorted(texts) == sorted(
            ["Il mio primo commento", "Una risposta", REMOVED_TEXT]
        )

    @pytest.mark.parametrize("address", ["", " ", "lucia"])
    def test_the_cli_refuses_what_is_no_address(self, app, runner, lucia, address):
        # An empty address once named every response stored without one
        # (pingbacks, the author's own replies) and every author notice queued.
        ping = add_comment(
            app,
            type="pingback",
            status="approved",
            author_email="",
            author_ip="1.2.3.4",
        )
        with app.app_context():
            queued = db.session.scalar(db.select(db.func.count(OutboxMessage.id)))
        for command in ("erase", "export"):
            result = runner.invoke(args=["personal-data", command, address])
            assert result.exit_code != 0
            assert "indirizzo email valido" in result.output
        assert stored_comment(app, ping).author_ip == "1.2.3.4"
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == (
                queued
            )


class TestLogAndSources:
    def test_both_requests_are_logged_without_the_data(self, app, lucia, caplog):
        caplog.set_level(logging.INFO, logger="blog.privacy")
        with app.test_request_context():
            export_personal_data(EMAIL, "riccardo")
            erase_personal_data(EMAIL, True, "riccardo")
        exported, erased = (r.getMessage() for r in caplog.records)
        assert exported.startswith(
            f"Richiesta sui dati personali: esportazione di {EMAIL}"
        )
        assert "da riccardo" in exported and exported.endswith(", 2 record")
        # A time in UTC says so (the blog's own zone may be another).
        assert re.search(r" il \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, ", exported)
        assert "cancellazione (testi eliminati)" in erased
        for message in (exported, erased):
            for secret in ("Lucia Verdi", "192.0.2.10", "primo commento", "Firefox"):
                assert secret not in message

    def test_every_source_is_asked(self, app, lucia):
        asked = []
        extra = PersonalDataSource(
            "elsewhere",
            lambda email: [{"post": "x", "email": email}],
            lambda email, texts: asked.append((email, texts)) or 1,
        )
        with app.test_request_context():
            from blog.privacy.requests import SOURCES

            data = export_personal_data(EMAIL, "cli", sources=(*SOURCES, extra))
            counts = erase_personal_data(EMAIL, False, "cli", sources=(*SOURCES, extra))
        assert data["elsewhere"] == [{"post": "x", "email": EMAIL}]
        assert counts == {
            "comments": 2,
            "subscriptions": 0,
            "blocks": 0,
            "elsewhere": 1,
        }
        assert asked == [(EMAIL, False)]


class TestSubscriptions:
    """The mail subscriptions (#13) are personal data of the address too."""

    @pytest.fixture
    def subscribed(self, app, lucia):
        with app.app_context():
            db.session.add_all(
                [
                    Subscription(
                        email=EMAIL,
                        post_id=the_post().id,
                        comment_id=lucia["first"],
                        created_at=datetime(2026, 11, 2, 9, 30),
                        confirmed_at=datetime(2026, 11, 3),
                    ),
                    ConfirmedAddress(email=EMAIL, confirmed_at=datetime(2026, 11, 3)),
                    OutboxMessage(kind="confirm", ref_id=None, recipient=EMAIL),
                    Subscription(email="marco@example.org", post_id=the_post().id),
                ]
            )
            db.session.commit()

    def test_the_export_lists_them(self, app, subscribed):
        with app.test_request_context():
            data = export_personal_data(EMAIL, "riccardo")
        assert data["subscriptions"] == [
            {
                "record": "subscription",
                "post": "Chi è e chi NON è il Community Manager?!",
                "replies_to_own_comment_only": True,
                "date": "2026-11-02T09:30:00Z",
                "confirmed": "2026-11-03T00:00:00Z",
            },
            {"record": "confirmed_address", "date": "2026-11-03T00:00:00Z"},
            {
                "record": "mail",
                "kind": "confirm",
                "status": "queued",
                "date": data["subscriptions"][2]["date"],
                "sent": None,
            },
        ]

    def test_erasing_ends_them_and_forgets_the_address(self, app, subscribed):
        with app.test_request_context():
            counts = erase_personal_data(EMAIL, False, "riccardo")
        # The subscription, the confirmation and the mail: each counted,
        # though ending the last subscription forgets the address too.
        assert counts["subscriptions"] == 3
        with app.app_context():
            emails = db.session.scalars(db.select(Subscription.email)).all()
            assert emails == ["marco@example.org"]
            assert db.session.get(ConfirmedAddress, EMAIL) is None
            assert not db.session.scalars(
                db.select(OutboxMessage).where(OutboxMessage.recipient == EMAIL)
            ).all()
