"""Submitting a comment through the real form: fields, limits, rules, messages."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from helpers_admin import form_data
from helpers_comments import (
    POST_URL,
    newest_comment,
    old_stamp,
    read_form,
    send_comment,
    set_status,
    sign_in_author,
    soup,
    stage_comment,
    the_post,
)

from blog.comments import views as comment_views
from blog.comments.forms import CONSENT_LABEL
from blog.comments.identity import AUTHOR_COOKIE, OWNER_COOKIE
from blog.comments.moderation import TOO_FAST_MESSAGE
from blog.core.settings import CommentSettings, save_settings
from blog.extensions import db
from blog.models import Comment, utcnow
from blog.pagecache.signing import signed_value_serializer

DUPLICATE = "Commento duplicato: sembra che tu l'abbia già scritto!"
FLOOD = (
    "Hai appena inviato un commento: aspetta qualche secondo prima di inviarne "
    "un altro."
)
PENDING_NOTICE = "Il tuo commento è in attesa di moderazione."


def field_error(page, name: str) -> str | None:
    error = page.select_one(f".field-{name} .field-error")
    return error.get_text() if error else None


def cookie(response, name: str) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    return None


def configure(app, **values) -> None:
    with app.app_context():
        save_settings(CommentSettings(**values))
        db.session.commit()


class TestSuccess:
    def test_post_redirect_get_lands_on_the_new_comment(self, app, client):
        response = send_comment(client, app, "Ottimo spunto!")
        assert response.status_code == 302
        with app.app_context():
            comment = newest_comment()
            assert comment.content == "Ottimo spunto!"
            assert comment.status == "pending"
            assert (comment.author_name, comment.author_email) == (
                "Lucia",
                "lucia@example.org",
            )
            assert comment.thread_id is None and comment.depth == 1
        assert response.headers["Location"] == f"/comment/{comment.id}/"
        landing = client.get(response.headers["Location"])
        assert landing.status_code == 302
        assert landing.headers["Location"] == f"{POST_URL}#comment-{comment.id}"

    def test_the_writer_alone_sees_the_held_comment(self, app, client):
        send_comment(client, app, "In attesa")
        page = soup(client.get(POST_URL))
        item = page.select("ol.commentlist > li")[-1]
        assert item.select_one(".comment-awaiting-moderation").get_text() == (
            PENDING_NOTICE
        )
        assert item.select_one(".comment-content").get_text() == "In attesa"
        assert item.select_one(".comment-reply-link") is None
        # Counts stay those of approved responses.
        assert page.select_one("#comments h2").get_text() == "12 Responses"
        assert "with 12 Comments" in page.select_one(".post-meta").get_text()
        stranger = app.test_client()
        other = stranger.get(POST_URL).get_data(as_text=True)
        assert "In attesa" not in other and PENDING_NOTICE not in other

    def test_the_owner_token_is_random_signed_and_httponly(self, app, client):
        header = cookie(send_comment(client, app), OWNER_COOKIE)
        assert "HttpOnly" in header and "SameSite=Lax" in header
        with app.app_context():
            stored = newest_comment().owner_token_hash
        assert len(stored) == 64 and stored not in header
        # A forged cookie proves nothing: the comment stays hidden.
        forger = app.test_client()
        forger.set_cookie(OWNER_COOKIE, header.split(";")[0].split("=", 1)[1] + "x")
        assert PENDING_NOTICE not in forger.get(POST_URL).get_data(as_text=True)

    def test_an_approved_comment_is_sanitised_and_shown_to_every_reader(
        self, app, client
    ):
        configure(app, hold_all=False)
        stranger = app.test_client()
        stranger.get(POST_URL)  # the page is cached for anonymous readers
        send_comment(client, app, "<script>x()</script> <b>ciao</b>")
        item = soup(stranger.get(POST_URL)).select("ol.commentlist > li")[-1]
        content = item.select_one(".comment-content")
        assert content.find("script") is None
        assert content.b.get_text() == "ciao"
        assert content.get_text().startswith("<script>x()</script>")

    def test_a_held_comment_leaves_the_page_of_others_as_it_was(self, app, client):
        stranger = app.test_client()
        before = soup(stranger.get(POST_URL)).select("ol.commentlist li")
        send_comment(client, app, "Da moderare")
        after = soup(stranger.get(POST_URL)).select("ol.commentlist li")
        assert [li["id"] for li in after] == [li["id"] for li in before]
        assert "Da moderare" not in stranger.get(POST_URL).get_data(as_text=True)

    def test_a_website_without_scheme_means_http(self, app, client):
        send_comment(client, app, url="lucia.example.org")
        with app.app_context():
            assert newest_comment().author_url == "http://lucia.example.org"


class TestValidation:
    # Spaces alone are missing too: the filters leave nothing of them.
    @pytest.mark.parametrize("blank", ["", " \t "], ids=["empty", "spaces"])
    def test_missing_fields_get_italian_messages_and_a_422(self, app, client, blank):
        response = send_comment(client, app, blank, author=blank, email=blank)
        assert response.status_code == 422
        page = soup(response)
        assert field_error(page, "author") == "Inserisci il tuo nome."
        assert field_error(page, "email") == "Inserisci il tuo indirizzo email."
        assert field_error(page, "comment") == "Scrivi il testo del commento."
        assert field_error(page, "url") is None
        assert page.title.get_text().startswith("Errore: ")  # read first on arrival
        assert not soup(client.get(POST_URL)).title.get_text().startswith("Errore")
        with app.app_context():
            assert db.session.query(Comment).count() == 12

    def test_a_website_that_is_no_address_comes_back_as_typed(self, app, client):
        response = send_comment(client, app, "Testo", url="il mio sito")
        assert response.status_code == 422
        page = soup(response)
        assert page.select_one("#url")["value"] == "il mio sito"
        assert field_error(page, "url").startswith("Il sito web deve essere")

    def test_each_error_is_tied_to_its_field_for_screen_readers(self, app, client):
        page = soup(send_comment(client, app, "", author="", email="no"))
        for name in ("author", "email", "comment"):
            control = page.select_one(f"#{name}")
            assert control["aria-invalid"] == "true"
            described = control["aria-describedby"].split()
            assert f"{name}-error" in described
            assert page.select_one(f"#{name}-error .field-error").get_text()
        assert not page.select_one("#url").has_attr("aria-invalid")
        # The page without errors names no error.
        fresh = soup(client.get(POST_URL))
        assert not fresh.select("[aria-invalid]") and not fresh.select(".field-errors")

    def test_what_was_typed_comes_back(self, app, client):
        response = send_comment(
            client, app, "Il mio lungo testo", email="non-valida", url="lucia.org"
        )
        assert response.status_code == 422
        page = soup(response)
        assert field_error(page, "email") == "Inserisci un indirizzo email valido."
        assert page.select_one("#author")["value"] == "Lucia"
        assert page.select_one("#email")["value"] == "non-valida"
        assert page.select_one("#url")["value"] == "http://lucia.org"
        assert page.select_one("#comment").get_text().strip() == "Il mio lungo testo"

    def test_the_form_sends_the_reader_back_to_itself(self, app, client):
        # A phone reader whose comment comes back with errors lands at the form
        # and its messages, not at the top of a long post.
        # (The browser is taken there by the autofocus of the first field in
        # error: an address with "#respond" would keep it from that.)
        page = soup(client.get(POST_URL))
        assert page.select_one("form.comment-form")["action"] == f"{POST_URL}comment"
        assert page.select_one("#respond form.comment-form") is not None
        response = send_comment(client, app, "", author="")
        assert response.status_code == 422
        again = soup(response).select_one("#respond form.comment-form")
        assert again["action"] == f"{POST_URL}comment"
        assert again.select_one("[autofocus]")["id"] == "author"

    def test_reloading_the_forms_address_goes_back_to_the_form(self, client):
        response = client.get(f"{POST_URL}comment")
        assert response.status_code == 302
        assert response.headers["Location"] == f"{POST_URL}#respond"

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("author", "n" * 246, "Il nome può avere al massimo 245 caratteri."),
            (
                "email",
                "a" * 89 + "@example.org",
                "L'email può avere al massimo 100 caratteri.",
            ),
            (
                "url",
                "https://example.org/" + "p" * 181,
                "Il sito web può avere al massimo 200 caratteri.",
            ),
            (
                "url",
                "javascript:alert(1)",
                "Il sito web deve essere un indirizzo che inizia con "
                "http:// o https://.",
            ),
        ],
    )
    def test_wordpress_limits_per_field(self, app, client, field, value, message):
        response = send_comment(client, app, **{field: value})
        assert response.status_code == 422
        assert field_error(soup(response), field) == message

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("author", "n" * 245),
            ("email", "a" * 88 + "@example.org"),
            ("url", "https://example.org/" + "p" * 180),
        ],
    )
    def test_values_at_the_limit_are_accepted(self, app, client, field, value):
        assert send_comment(client, app, **{field: value}).status_code == 302

    def test_the_comment_limit_is_65525_bytes(self, app, client):
        # "è" is two bytes in UTF-8: the limit counts bytes, not characters.
        over = "è" * 32_763
        assert len(over.encode()) == 65_526
        response = send_comment(client, app, over)
        assert response.status_code == 422
        # One character over, in the reader's measure.
        assert field_error(soup(response), "comment").startswith(
            "Il commento è troppo lungo: accorcialo di circa 1 carattere "
        )
        many = send_comment(client, app, "è" * 40_000)
        assert "accorcialo di circa 7.238 caratteri" in field_error(
            soup(many), "comment"
        )
        assert send_comment(client, app, over[:-1] + "e").status_code == 302

    def test_an_oversized_request_gets_the_413_page(self, app, client):
        action, data, _ = read_form(client)
        data.update(author="Lucia", email="lucia@example.org")
        data["comment"] = "x" * (300 * 1024)
        response = client.post(action, data=data)
        assert response.status_code == 413
        page = soup(response)
        assert page.h1.get_text() == "Richiesta troppo grande"
        assert page.html["lang"] == "it"
        # Nothing typed can come back from a body not read: the page says
        # so, and where the text still is.
        assert "non è stato salvato" in page.get_text()
        assert "Torna indietro" in page.get_text()

    def test_a_missing_csrf_token_keeps_the_text(self, app, client):
        response = send_comment(client, app, "Testo prezioso", csrf_token=None)
        assert response.status_code == 400
        page = soup(response)
        assert page.select_one(".form-error").get_text() == (
            "Il modulo è scaduto o non è valido: invialo di nuovo."
        )
        assert page.select_one("#comment").get_text().strip() == "Testo prezioso"
        with app.app_context():
            assert db.session.query(Comment).count() == 12

    def test_the_first_field_in_error_takes_the_focus(self, app, client):
        response = send_comment(client, app, "", author="", email="non-una-email")
        assert response.status_code == 422
        page = soup(response)
        assert [tag["id"] for tag in page.select("[autofocus]")] == ["author"]
        response = send_comment(client, app, "", email="non-una-email")
        assert [tag["id"] for tag in soup(response).select("[autofocus]")] == ["email"]
        # No field in error (a duplicate, a flood): the message takes it. The
        # form's address names no element, which would keep a browser from it.
        action, data, _ = read_form(client)
        assert "#" not in action
        response = send_comment(client, app, "Testo", csrf_token=None)
        focused = soup(response).select("[autofocus]")
        assert [tag.get("class") for tag in focused] == [["form-error"]]

    def test_a_browser_sending_no_cookie_is_told_so(self, app, client):
        action, data, _ = read_form(client)
        data.update(author="Lucia", email="lucia@example.org", comment="Senza cookie")
        response = app.test_client().post(action, data=data)  # no cookie jar
        assert response.status_code == 400
        page = soup(response)
        assert "cookie" in page.select_one(".form-error").get_text()
        assert page.select_one("#comment").get_text().strip() == "Senza cookie"

    def test_a_post_that_does_not_exist_is_404(self, app, client):
        _, data, _ = read_form(client)
        assert client.post("/non-esiste/comment", data=data).status_code == 404
        # Its form's address asked for with GET leads to the post's 404.
        assert client.get("/non-esiste/comment", follow_redirects=True).status_code == (
            404
        )


class TestConsentCookie:
    def test_consent_prefills_the_form_from_an_httponly_cookie(self, app, client):
        page = soup(client.get(POST_URL))
        label = page.select_one("label[for=consent]").get_text()
        assert (
            label
            == CONSENT_LABEL
            == (
                "Salva il mio nome, email e sito web in questo browser "
                "per la prossima volta che commento."
            )
        )
        response = send_comment(client, app, consent="y", url="https://lucia.org")
        header = cookie(response, AUTHOR_COOKIE)
        assert "HttpOnly" in header and "Max-Age=31536000" in header
        page = soup(client.get(POST_URL))
        assert page.select_one("#author")["value"] == "Lucia"
        assert page.select_one("#email")["value"] == "lucia@example.org"
        assert page.select_one("#url")["value"] == "https://lucia.org"
        assert page.select_one("#consent").has_attr("checked")

    def test_the_longest_name_allowed_is_still_remembered(self, app, client):
        # 245 emoji, each six times longer as JSON: the cookie stays under the
        # 4 KB a browser keeps because the signed value is compressed.
        name = "\N{SLIGHTLY SMILING FACE}" * 245
        website = "https://" + "a" * 180 + ".org"
        response = send_comment(client, app, consent="y", author=name, url=website)
        assert response.status_code == 302
        assert len(cookie(response, AUTHOR_COOKIE).split(";")[0]) < 4000
        page = soup(client.get(POST_URL))
        assert page.select_one("#author")["value"] == name
        assert page.select_one("#url")["value"] == website

    def test_without_consent_nothing_is_kept(self, app, client):
        assert cookie(send_comment(client, app), AUTHOR_COOKIE) is None
        assert soup(client.get(POST_URL)).select_one("#author")["value"] == ""

    def test_unticking_consent_forgets_the_saved_values(self, app, client):
        send_comment(client, app, "primo", consent="y")
        with app.app_context():
            db.session.query(Comment).update(
                {Comment.created_at: utcnow() - timedelta(minutes=5)}
            )
            db.session.commit()
        response = send_comment(client, app, "secondo")
        assert response.status_code == 302
        assert cookie(response, AUTHOR_COOKIE).startswith(AUTHOR_COOKIE + "=;")
        assert soup(client.get(POST_URL)).select_one("#author")["value"] == ""

    def test_a_tampered_cookie_is_ignored(self, app, client):
        client.set_cookie(AUTHOR_COOKIE, '{"name": "Mallory"}')
        page = soup(client.get(POST_URL))
        assert page.select_one("#author")["value"] == ""


class TestRulesThroughTheForm:
    def age_existing_comments(self, app) -> None:
        with app.app_context():
            db.session.query(Comment).update(
                {Comment.created_at: utcnow() - timedelta(minutes=5)}
            )
            db.session.commit()

    def test_a_duplicate_is_refused_with_409(self, app, client):
        send_comment(client, app, "Stesso testo")
        self.age_existing_comments(app)
        other = app.test_client()
        response = send_comment(other, app, "Stesso testo", email="altra@example.org")
        assert response.status_code == 409
        page = soup(response)
        assert page.select_one(".form-error").get_text() == DUPLICATE
        assert page.select_one("#comment").get_text().strip() == "Stesso testo"

    def test_flooding_is_refused_with_429_by_ip_or_email(self, app, client):
        send_comment(client, app, "primo")
        response = send_comment(client, app, "secondo")
        assert response.status_code == 429
        assert soup(response).select_one(".form-error").get_text() == FLOOD
        # Same email from another address is flooding too.
        other = app.test_client()
        action, data, post_id = read_form(other)
        data.update(
            author="Lucia",
            email="lucia@example.org",
            comment="terzo",
            stamp=old_stamp(app, post_id),
        )
        response = other.post(
            action, data=data, environ_base={"REMOTE_ADDR": "127.0.0.77"}
        )
        assert response.status_code == 429
        # The same address with another email is flooding as well.
        response = send_comment(client, app, "quarto", email="altra@example.org")
        assert response.status_code == 429

    def test_an_imported_comment_dated_ahead_holds_nobody_back(self, app, client):
        # An import may bring a comment dated in the future: its writer's next
        # comment is judged by the comments before now, not refused until then.
        with app.app_context():
            stage_comment(
                the_post(),
                author_ip="127.0.0.1",
                author_email="lucia@example.org",
                created_at=utcnow() + timedelta(days=30),
            )
            db.session.commit()
        assert send_comment(client, app, "primo").status_code == 302
        assert send_comment(client, app, "secondo").status_code == 429  # still paced

    @pytest.mark.parametrize("rule", ["duplicate", "flood"])
    def test_a_refused_comment_is_never_sanitised(self, app, client, monkeypatch, rule):
        send_comment(client, app, "Stesso testo")
        if rule == "duplicate":
            self.age_existing_comments(app)
        cleaned = []
        monkeypatch.setattr(
            "blog.comments.operations.clean_comment",
            lambda text: cleaned.append(text),
        )
        # The duplicate from another browser: from the same one it leads to
        # the first (test_write_path).
        sender = app.test_client() if rule == "duplicate" else client
        response = send_comment(
            sender, app, "Stesso testo" if rule == "duplicate" else "a-" * 30_000
        )
        assert response.status_code == (409 if rule == "duplicate" else 429)
        assert cleaned == []

    @pytest.mark.parametrize("rule", ["duplicate", "flood", "closed"])
    def test_a_refusal_is_a_small_page_that_keeps_the_text(self, app, client, rule):
        send_comment(client, app, "Stesso testo")
        if rule == "duplicate":
            self.age_existing_comments(app)
        typed = "Stesso testo" if rule == "duplicate" else "Un secondo testo"
        sender = app.test_client() if rule == "duplicate" else client
        action, data, post_id = read_form(sender)
        data.update(author="Lucia", email="lucia@example.org", comment=typed)
        data["stamp"] = old_stamp(app, post_id)
        if rule == "closed":  # closed while the reader was typing
            with app.app_context():
                the_post().comment_status = "closed"
                db.session.commit()
        response = sender.post(action, data=data)
        assert (
            response.status_code
            == {"duplicate": 409, "flood": 429, "closed": 403}[rule]
        )
        page = soup(response)
        assert page.select_one("ol.commentlist") is None  # no comment list
        # In the form to send again, or (closed) to be copied.
        kept = page.select_one("#typed-comment" if rule == "closed" else "#comment")
        assert kept.get_text().strip() == typed
        assert page.select_one(".form-error").get_text()
        back = page.select_one(".comment-refused a")
        assert back["href"] == POST_URL
        if rule == "flood":
            assert 1 <= int(response.headers["Retry-After"]) <= 15
        else:
            assert "Retry-After" not in response.headers

    def test_after_the_flood_window_a_new_comment_is_fine(self, app, client):
        send_comment(client, app, "primo")
        self.age_existing_comments(app)
        assert send_comment(client, app, "secondo").status_code == 302

    def test_the_signed_in_author_is_not_slowed_down(self, app, client):
        sign_in_author(client)
        action, data, _ = read_form(client)
        assert client.post(action, data={**data, "comment": "uno"}).status_code == 302
        assert client.post(action, data={**data, "comment": "due"}).status_code == 302

    def test_a_filled_honeypot_is_spam_and_hidden_from_others(self, app, client):
        page = soup(client.get(POST_URL))
        trap = page.select_one("#website")
        assert trap.find_parent("p").has_attr("hidden")
        send_comment(client, app, "compra", website="https://spam.example.org")
        with app.app_context():
            comment = newest_comment()
            assert (comment.status, comment.moderation_reason) == (
                "spam",
                "campo trappola compilato",
            )
        assert "compra" not in app.test_client().get(POST_URL).get_data(as_text=True)

    def test_a_form_sent_at_once_comes_back_and_goes_once_sent_again(
        self, app, client, monkeypatch
    ):
        with app.app_context():
            before = newest_comment().id
        response = send_comment(client, app, "Grazie!", typed_slowly=False)
        assert response.status_code == 422
        page = soup(response)
        assert page.select_one(".form-error").get_text() == TOO_FAST_MESSAGE
        form = page.select_one("form.comment-form")
        assert form.select_one("#comment").get_text().strip() == "Grazie!"
        with app.app_context():
            assert newest_comment().id == before
        # Sent again from that page a few seconds later: its first stamp kept.
        later = time.time() + 5
        monkeypatch.setattr(comment_views, "time", SimpleNamespace(time=lambda: later))
        again = client.post(form["action"], data=form_data(form))
        assert again.status_code == 302
        with app.app_context():
            assert newest_comment().status == "pending"

    def test_a_form_opened_before_a_key_change_still_counts(self, app, client):
        # The old key kept among SECRET_KEY_FALLBACKS, as Flask's session keeps it.
        action, data, post_id = read_form(client)
        stamp = old_stamp(app, post_id)
        old_key = app.secret_key
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        app.secret_key = app.config["SECRET_KEY"] = "una-chiave-nuova-" + "k" * 40
        data.update(author="Lucia", email="lucia@example.org", comment="Dopo")
        data.update(stamp=stamp)
        # The form's token was signed with the old key: it comes back once…
        refused = client.post(action, data=data)
        assert refused.status_code == 400
        form = soup(refused).select_one("form.comment-form")
        # …and sent again it is a reader's comment, its first stamp still read.
        assert client.post(form["action"], data=form_data(form)).status_code == 302
        with app.app_context():
            assert newest_comment().status == "pending"

    def test_cookies_given_after_a_key_change_are_signed_with_the_new_key(
        self, app, client
    ):
        configure(app, flood_seconds=0)
        assert send_comment(client, app, "Prima", consent="y").status_code == 302
        app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
        app.secret_key = app.config["SECRET_KEY"] = "una-chiave-nuova-" + "k" * 40
        client.delete_cookie(OWNER_COOKIE)
        response = send_comment(client, app, "Dopo il cambio", consent="y")
        assert response.status_code == 302

        def read_with_new_key_only(name: str, purpose: str) -> object:
            value = cookie(response, name).split(";")[0].split("=", 1)[1]
            return signed_value_serializer(app.secret_key, purpose).loads(value)

        assert len(read_with_new_key_only(OWNER_COOKIE, "owner")) >= 32
        assert read_with_new_key_only(AUTHOR_COOKIE, "author") == {
            "name": "Lucia",
            "email": "lucia@example.org",
            "url": "",
        }
        # And the page remembers this browser's held comment and its writer.
        page = client.get(POST_URL).get_data(as_text=True)
        assert PENDING_NOTICE in page and 'value="Lucia"' in page

    def test_a_form_without_a_genuine_stamp_is_spam(self, app, client):
        send_comment(client, app, stamp="WzEsMTAwXQ.forged")
        with app.app_context():
            assert newest_comment().status == "spam"

    def test_links_and_words_hold_or_reject(self, app, client):
        configure(
            app,
            hold_all=False,
            moderation_words=("promozione",),
            disallowed_words=("casino",),
        )
        cases = [
            ("Commento pulito", "approved"),
            (
                "https://a.example.com https://b.example.com https://c.example.com",
                "pending",
            ),
            ("Una promozione", "pending"),
            ("Il casino online", "spam"),
        ]
        for text, status in cases:
            self.age_existing_comments(app)
            assert send_comment(client, app, text).status_code == 302
            with app.app_context():
                assert newest_comment().status == status, text

    def test_a_returning_commenter_needs_the_token_not_the_name(self, app, client):
        configure(app, auto_approve_known=True)
        send_comment(client, app, "primo")
        with app.app_context():
            first = newest_comment().id
        set_status(app, first, "approved")
        self.age_existing_comments(app)
        send_comment(client, app, "secondo")
        with app.app_context():
            assert newest_comment().status == "approved"
        self.age_existing_comments(app)
        impostor = app.test_client()
        send_comment(impostor, app, "sono Lucia")
        with app.app_context():
            assert newest_comment().status == "pending"

    def test_closed_comments_refuse_with_403_and_hide_the_form(self, app, client):
        action, data, _ = read_form(client)
        with app.app_context():
            the_post().comment_status = "closed"
            db.session.commit()
        page = soup(client.get(POST_URL))
        assert page.select_one("form.comment-form") is None
        assert page.select_one(".comments-closed").get_text() == (
            "I commenti sono chiusi."
        )
        assert page.select(".comment-reply-link") == []
        assert page.select_one("#reply-title") is None  # no "Lascia un Commento"
        typed = "Il mio pensiero arrivato tardi"
        response = client.post(action, data={**data, "author": "L", "comment": typed})
        assert response.status_code == 403
        refused = soup(response)
        assert refused.select_one(".form-error").get_text() == (
            "I commenti per questo articolo sono chiusi."
        )
        assert "I commenti sono chiusi." not in refused.get_text()  # said once
        # No form that could never be sent; the text kept to be copied.
        assert refused.select_one("form.comment-form") is None
        kept = refused.select_one("textarea#typed-comment[readonly]")
        assert kept.get_text().strip() == typed

    def test_comments_close_after_the_configured_days(self, app, client):
        configure(app, close_after_days=30)
        page = soup(client.get(POST_URL))
        assert page.select_one(".comments-closed").get_text() == (
            "I commenti sono chiusi."
        )


class TestAuthorMode:
    def test_the_author_form_has_no_identity_fields(self, app, client):
        sign_in_author(client)
        form = soup(client.get(POST_URL)).select_one("form.comment-form")
        assert form.select_one("#author, #email, #url, #consent") is None
        assert "Riccardo Scarascia" in form.select_one(".logged-in-as").get_text()

    def test_the_author_comment_is_approved_and_marked(self, app, client):
        sign_in_author(client)
        action, data, _ = read_form(client)
        stranger = app.test_client()
        stranger.get(POST_URL)  # the page is cached for anonymous readers
        response = client.post(action, data={**data, "comment": "Grazie a tutti"})
        assert response.status_code == 302
        with app.app_context():
            comment = newest_comment()
            assert (comment.status, comment.author_id) == ("approved", 1)
            assert comment.author_name == "Riccardo Scarascia"
        item = soup(stranger.get(POST_URL)).select_one(f"#comment-{comment.id}")
        assert "by-author" in item["class"]
        assert item.select_one(".comment-author-badge").get_text() == "Autore"

    def test_quick_moderation_links_point_to_the_admin_page(self, app, client):
        sign_in_author(client)
        page = soup(client.get(POST_URL))
        links = page.select(".comment-moderation-links a")
        assert len(links) == 12
        first = page.select_one("ol.commentlist > li")["id"].removeprefix("comment-")
        assert links[0]["href"] == f"/admin/comments/{first}"
        assert (
            soup(app.test_client().get(POST_URL)).select(".comment-moderation-links")
            == []
        )


LONG_WORD = "offerta imperdibile " * 17  # a sentence in the list, 340 characters


@pytest.mark.app_config(COMMENT_MODERATION_WORDS=LONG_WORD)
def test_a_comment_matching_a_long_moderation_entry_is_held_with_a_short_reason(
    app, client
):
    # The reason quotes the entry: whole, it outgrew the column (PostgreSQL
    # refused the comment with a 500; SQLite stored what a copy then refused).
    response = send_comment(client, app, f"Leggete qui: {LONG_WORD}")
    assert response.status_code == 302
    with app.app_context():
        comment = newest_comment()
        assert comment.status == "pending"
        assert comment.moderation_reason.startswith("parola da moderare: «offerta")
        assert len(comment.moderation_reason) < 100


def test_a_reason_is_cut_to_its_column_wherever_it_comes_from():
    # A blocked address or a source's words can be as long: the model cuts.
    reason = Comment(moderation_reason="bloccato: " + "x" * 400).moderation_reason
    assert len(reason) == 300 and reason.endswith("…")
