"""The author moderates from the held notice: a confirmation page per button,
whose POST acts once, within seven days, on that response and action only."""

from __future__ import annotations

import string

import pytest
from helpers_admin import add_author, add_comment, comment_status, log_in, press, soup
from helpers_comments import set_status
from helpers_mail import send_mail, signed_days_ago
from itsdangerous import URLSafeTimedSerializer

from blog.admin import mail_views
from blog.extensions import db
from blog.models import Comment

AUTHOR = "moderazione@nowmedia.example"


def held_notice(app, mailbox, **values):
    """A held comment and the notice the author received for it."""
    comment_id = add_comment(app, **values)
    send_mail(app)
    [mail] = mailbox.to(AUTHOR)
    mailbox.take()
    return comment_id, mail


@pytest.mark.parametrize(
    "label, status, said",
    [
        ("Approva", "approved", "1 risposta approvata."),
        ("Spam", "spam", "1 risposta segnata come spam."),
        ("Cestino", "trash", "1 risposta spostata nel cestino."),
    ],
)
def test_each_button_asks_then_acts_without_signing_in(
    app, client, mailbox, label, status, said
):
    comment_id, mail = held_notice(
        app, mailbox, content="Da moderare", content_html="<p>Da moderare</p>"
    )
    page = soup(client.get(mail.link(label)))  # a mail scanner would stop here
    assert comment_status(app, comment_id) == "pending"
    assert "Da moderare" in page.get_text()
    response = press(client, page, label)
    assert response.status_code == 200
    assert comment_status(app, comment_id) == status
    assert f"Fatto: {said}" in response.get_data(as_text=True)


def test_a_mails_approve_after_the_author_marked_it_spam_publishes_nothing(
    app, client, mailbox
):
    comment_id, mail = held_notice(app, mailbox)
    path = mail.link("Approva")
    page = soup(client.get(path))
    set_status(app, comment_id, "spam")  # from the queue, meanwhile
    response = press(client, page, "Approva")
    assert comment_status(app, comment_id) == "spam"
    assert "Nessuna modifica" in response.get_data(as_text=True)
    again = soup(client.get(path))
    assert "Nessuna modifica" in again.get_text()
    assert again.find("button", string="Approva") is None


def test_a_verdict_given_while_the_button_is_pressed_is_not_reported_done(
    app, client, mailbox, monkeypatch
):
    comment_id, mail = held_notice(app, mailbox)
    page = soup(client.get(mail.link("Approva")))
    act = mail_views.apply_action

    def after_another_moderator(name, ids):
        set_status(app, comment_id, "spam")  # between the page's look and the lock
        return act(name, ids)

    monkeypatch.setattr(mail_views, "apply_action", after_another_moderator)
    response = press(client, page, "Approva")
    assert comment_status(app, comment_id) == "spam"
    assert "Nessuna modifica" in response.get_data(as_text=True)
    assert "Fatto" not in response.get_data(as_text=True)


def test_the_html_part_has_the_same_buttons(app, mailbox):
    _, mail = held_notice(app, mailbox)
    for label in ("Approva", "Spam", "Cestino", "Rispondi"):
        assert f">{label}</a>" in mail.html


def test_a_token_acts_once(app, client, mailbox):
    comment_id, mail = held_notice(app, mailbox)
    path = mail.link("Approva")
    press(client, soup(client.get(path)), "Approva")
    # The author moves it back; the same link may not approve it again.
    set_status(app, comment_id, "pending")
    response = client.get(path)
    assert response.status_code == 410
    assert "già stato usato" in response.get_data(as_text=True)
    assert comment_status(app, comment_id) == "pending"


def test_a_spent_token_spelled_another_way_is_still_spent(app, client, mailbox):
    # base64 ignores the spare low bits of the last character and any character
    # outside its alphabet: these spellings carry the same signed value.
    comment_id, mail = held_notice(app, mailbox)
    path = mail.link("Approva")
    page = soup(client.get(path))
    press(client, page, "Approva")
    set_status(app, comment_id, "pending")
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    twin = alphabet[alphabet.index(path[-1]) ^ 1]
    for respelled in (path[:-1] + twin, path[:-1] + "~" + path[-1]):
        assert client.get(respelled).status_code in (403, 410)
        page.find("form")["action"] = respelled
        assert press(client, page, "Approva").status_code in (403, 410)
    assert comment_status(app, comment_id) == "pending"


def test_a_second_post_of_the_same_page_is_refused(app, client, mailbox):
    comment_id, mail = held_notice(app, mailbox)
    page = soup(client.get(mail.link("Spam")))
    press(client, page, "Spam")
    response = press(client, page, "Spam")
    assert response.status_code == 410
    assert comment_status(app, comment_id) == "spam"


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def test_a_forged_or_rebound_token_is_refused(app, client, mailbox):
    comment_id, mail = held_notice(app, mailbox)
    token = token_of(mail.link("Approva"))
    forged = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    assert client.get(f"/admin/email/{forged}").status_code == 403
    # Signed for another purpose: a reader's subscriptions page token.
    with app.app_context():
        other = URLSafeTimedSerializer(app.secret_key, salt="blog.mail.manage").dumps(
            [comment_id, "approve"]
        )
    assert client.post(f"/admin/email/{other}").status_code in (400, 403)
    assert client.get(f"/admin/email/{other}").status_code == 403
    assert comment_status(app, comment_id) == "pending"


def test_the_token_names_its_action_the_form_cannot_change_it(app, client, mailbox):
    comment_id, mail = held_notice(app, mailbox)
    page = soup(client.get(mail.link("Cestino")))
    press(client, page, "Cestino", action="approve")
    assert comment_status(app, comment_id) == "trash"


def old_token(app, comment_id: int, action: str, days: int, created=True) -> str:
    """A token signed ``days`` ago; created=False: one mailed before the
    response's creation time was signed into it."""

    if not created:
        return signed_days_ago(app, "moderate", [comment_id, action], days)
    with app.app_context():
        stamp = db.session.get(Comment, comment_id).created_at.isoformat()
    return signed_days_ago(app, "moderate", [comment_id, action, stamp], days)


def test_a_token_expires_after_seven_days(app, client, mailbox):
    comment_id, _ = held_notice(app, mailbox)
    expired = old_token(app, comment_id, "approve", days=8)
    response = client.get(f"/admin/email/{expired}")
    assert response.status_code == 410
    assert "scaduto" in response.get_data(as_text=True)
    assert (
        client.get(
            f"/admin/email/{old_token(app, comment_id, 'approve', 6)}"
        ).status_code
        == 200
    )
    assert comment_status(app, comment_id) == "pending"


def test_a_button_of_a_response_deleted_since_says_so_in_italian(app, client, mailbox):
    # The spam emptied since the notice: its buttons explain the 404.
    comment_id, mail = held_notice(app, mailbox, author_name="Spammer")
    with app.app_context():
        db.session.delete(db.session.get(Comment, comment_id))
        db.session.commit()
    response = client.get(mail.link("Approva"))
    assert response.status_code == 404
    assert "Questa risposta non esiste più: è stata eliminata definitivamente." in (
        soup(response).select_one("main").get_text()
    )


def test_an_old_link_never_acts_on_a_response_given_the_same_id(app, client, mailbox):
    # SQLite gives the id of the newest row, once deleted, to the next one.
    comment_id, mail = held_notice(app, mailbox, author_name="Spammer")
    with app.app_context():
        db.session.delete(db.session.get(Comment, comment_id))
        db.session.commit()
    newcomer = add_comment(app, author_name="Giulia")
    if newcomer != comment_id:
        pytest.skip("this database did not give the id again")
    for label in ("Approva", "Spam", "Cestino"):
        assert client.get(mail.link(label)).status_code == 404
        assert client.post(mail.link(label)).status_code in (400, 404)
    assert comment_status(app, newcomer) == "pending"


def test_a_link_mailed_before_the_creation_time_was_signed_has_expired(
    app, client, mailbox
):
    comment_id, _ = held_notice(app, mailbox)
    response = client.get(
        f"/admin/email/{old_token(app, comment_id, 'spam', 1, False)}"
    )
    assert response.status_code == 410
    assert "scaduto" in response.get_data(as_text=True)
    assert comment_status(app, comment_id) == "pending"


def test_reply_to_a_response_deleted_since_opens_no_other_one(app, client, mailbox):
    # SQLite gives the deleted response's id to the next: its "Rispondi" must
    # not open a reply form under a response the author never saw.
    comment_id, mail = held_notice(app, mailbox, author_name="Spammer")
    with app.app_context():
        db.session.delete(db.session.get(Comment, comment_id))
        db.session.commit()
    add_comment(app, author_name="Giulia")
    add_author(app)
    log_in(client)
    response = client.get(mail.link("Rispondi"))
    assert response.status_code == 404
    assert "eliminata definitivamente" in soup(response).select_one("main").get_text()


def test_reply_opens_the_queue_reply_form(app, client, mailbox):
    comment_id, mail = held_notice(app, mailbox)
    path = mail.link("Rispondi")
    assert path.startswith(f"/admin/comments/{comment_id}?rispondi=1&creata=")
    add_author(app)
    log_in(client)
    page = soup(client.get(path))
    assert page.select_one("details.inline-form").has_attr("open")
    assert (
        not soup(client.get(f"/admin/comments/{comment_id}"))
        .select_one("details.inline-form")
        .has_attr("open")
    )


def test_a_notice_for_a_response_moderated_meanwhile_is_not_sent(app, mailbox):
    comment_id = add_comment(app)
    set_status(app, comment_id, "approved")
    send_mail(app)
    assert mailbox.to(AUTHOR) == []


def test_mail_for_every_approved_comment_is_a_setting_off_by_default(
    app, author_client, mailbox
):
    page = soup(author_client.get("/admin/settings"))
    box = page.find("input", attrs={"name": "mail_approved"})
    assert box["type"] == "checkbox" and not box.has_attr("checked")
    assert "Avvisami via email anche di ogni commento approvato" in page.get_text()
    first = add_comment(app, author_name="Prima")
    set_status(app, first, "approved")
    send_mail(app)
    mailbox.take()  # the held notice only
    press(author_client, page, "Salva le impostazioni", mail_approved="y")
    second = add_comment(app, author_name="Seconda", content_html="<p>Ciao</p>")
    set_status(app, second, "approved")
    send_mail(app)
    subjects = [m.message["Subject"] for m in mailbox.to(AUTHOR)]
    # Approved before the outbox ran: no held notice any more, only this one.
    assert subjects == [
        "[Chi è e chi NON è il Community Manager?!] Commento approvato: Seconda"
    ]
