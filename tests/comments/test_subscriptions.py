"""Readers mailed about replies: double opt-in, approval only, one-click leave.

Every message goes through a real SMTP server on 127.0.0.1 (``mailbox``).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from helpers_admin import add_comment, comment_status, form_data, press, soup
from helpers_comments import (
    read_form,
    send_comment,
    sqlite_plan,
    statements_during,
    the_post,
)
from helpers_mail import aged, path_of, send_mail, signed_days_ago
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from blog.admin.actions import apply_action, edit
from blog.comments import mails, mailtokens
from blog.comments import subscriptions as subscriptions_module
from blog.comments.operations import edit_response
from blog.comments.subscriptions import forget_unconfirmed, subscribe
from blog.core.sanitize.comment import clean_comment
from blog.core.settings import CommentSettings
from blog.extensions import db
from blog.mail import enqueue
from blog.models import (
    Comment,
    ConfirmedAddress,
    OutboxMessage,
    Post,
    Subscription,
    utcnow,
)

LUCIA = "lucia@example.org"
CONFIRM_SUBJECT = (
    "[nOwmedia] Conferma le notifiche su «Chi è e chi NON è il Community Manager?!»"
)
# No pause between one reader's comments: the tests send several in a row.
# Published at once, unless a test says otherwise: a held comment's writer is
# asked to confirm only once it is approved (the tests of "held" below).
PUBLISHED_AT_ONCE = {"COMMENT_FLOOD_SECONDS": 0, "COMMENT_HOLD_ALL": False}
pytestmark = pytest.mark.app_config(**PUBLISHED_AT_ONCE)


def comment_of_lucia(client, app, notify="notify_replies", text="Domanda?") -> int:
    """Lucia comments on the post, asking for mail; the comment's id."""
    response = send_comment(client, app, text=text, **{notify: "y"})
    assert response.status_code == 302
    with app.app_context():
        return db.session.scalar(select(func.max(Comment.id)))


def confirm(client, mailbox) -> None:
    """Lucia opens the link of her confirmation mail and presses the button."""
    [mail] = [m for m in mailbox.take() if LUCIA in m.rcpt_tos]
    page = soup(client.get(mail.link("Conferma")))
    press(client, page, "Conferma")


def subscribed_and_confirmed(client, app, mailbox, notify="notify_replies") -> int:
    comment_id = comment_of_lucia(client, app, notify)
    send_mail(app)
    confirm(client, mailbox)
    mailbox.take()
    return comment_id


def reply_to(app, parent_id: int, status: str = "approved", **values) -> int:
    values.setdefault("author_name", "Marco")
    values.setdefault("author_email", "marco@example.net")
    values.setdefault("content", "Ecco la risposta")
    values.setdefault("content_html", "<p>Ecco la <strong>risposta</strong></p>")
    with app.app_context():
        thread = db.session.get(Comment, parent_id).thread_id
    return add_comment(
        app, parent_id=parent_id, thread_id=thread, depth=2, status=status, **values
    )


def set_status(app, comment_id: int, status: str) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = status
        db.session.commit()


def is_confirmed(app, email: str = LUCIA) -> bool:
    with app.app_context():
        return db.session.get(ConfirmedAddress, email) is not None


def subscriptions(app, email: str = LUCIA) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(Subscription.id)).where(Subscription.email == email)
        )


def waiting(app, email: str = LUCIA) -> int:
    """Subscriptions of ``email`` not confirmed yet."""
    with app.app_context():
        return db.session.scalar(
            select(func.count(Subscription.id)).where(
                Subscription.email == email, Subscription.confirmed_at.is_(None)
            )
        )


def test_the_form_offers_both_choices_unchecked(client):
    form = soup(client.get("/chi-e-e-chi-non-e-il-community-manager/")).select_one(
        "form.comment-form"
    )
    replies = form.find("input", attrs={"name": "notify_replies"})
    every = form.find("input", attrs={"name": "notify_all"})
    assert replies["type"] == every["type"] == "checkbox"
    assert not replies.has_attr("checked") and not every.has_attr("checked")
    text = form.get_text(" ", strip=True)
    assert "Avvisami via email delle risposte al mio commento" in text
    assert "Avvisami via email di tutti i nuovi commenti a questo articolo" in text


def test_without_the_box_nothing_is_subscribed(app, client, mailbox):
    send_comment(client, app)
    send_mail(app)
    assert subscriptions(app) == 0
    assert mailbox.to(LUCIA) == []


@pytest.mark.parametrize("notify", ["notify_all", "notify_replies"])
def test_a_comment_judged_spam_asks_for_no_mail(app, client, mailbox, notify):
    # Otherwise a robot could make the blog write to any address it types.
    response = send_comment(
        client, app, website="https://spam.example.org", **{notify: "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        newest = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
        assert newest.status == "spam"
    send_mail(app)
    assert subscriptions(app) == 0
    assert mailbox.to(LUCIA) == []


def test_the_first_subscription_asks_once_for_confirmation(app, client, mailbox):
    comment_of_lucia(client, app)
    assert mailbox.received == []  # nothing is sent inside the request
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    assert mail.message["To"] == LUCIA
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert "/email/conferma/" in mail.link("Conferma")
    assert not is_confirmed(app)


def test_the_confirmation_link_changes_nothing_on_get(app, client, mailbox):
    comment_of_lucia(client, app)
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    response = client.get(mail.link("Conferma"))
    assert response.status_code == 200
    assert soup(response).find("button", string="Conferma") is not None
    assert not is_confirmed(app)
    press(client, soup(response), "Conferma")
    assert is_confirmed(app)


def test_a_confirmation_link_after_unsubscribing_confirms_nothing(app, client, mailbox):
    comment_of_lucia(client, app)
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    link = mail.link("Conferma")
    press(client, soup(client.get(link)), "Conferma")
    with app.app_context():
        assert subscriptions_module.end_subscriptions(LUCIA) == 1
        db.session.commit()
    page = soup(client.get(link))
    assert "Non c'è più nulla da confermare" in page.get_text()
    assert "Indirizzo confermato" not in page.get_text()
    assert page.find("button", string="Conferma") is None
    assert subscriptions(app) == 0


def test_two_confirmations_at_once_both_answer_confirmed(app, client, mailbox):
    # A double click: the other request has written the address's row since
    # this one's page was shown. This one gives way to it, and still starts.
    comment_of_lucia(client, app)
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    page = soup(client.get(mail.link("Conferma")))
    with app.app_context(), db.engine.begin() as other_request:
        other_request.execute(
            ConfirmedAddress.__table__.insert().values(
                email=LUCIA, confirmed_at=datetime(2026, 12, 1)
            )
        )
    response = press(client, page, "Conferma")
    assert response.status_code == 200
    assert "Indirizzo confermato" in response.get_data(as_text=True)
    assert is_confirmed(app)
    assert waiting(app) == 0


def test_nothing_but_the_confirmation_before_it_is_confirmed(app, client, mailbox):
    comment_id = comment_of_lucia(client, app)
    set_status(app, comment_id, "approved")
    reply_to(app, comment_id)
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]
    # She asked for replies only: the mail says so.
    assert "le risposte al tuo commento su «" in mailbox.to(LUCIA)[0].text


def test_a_confirmed_address_is_not_asked_again(app, client, mailbox):
    subscribed_and_confirmed(client, app, mailbox)
    comment_of_lucia(client, app, text="Seconda domanda")
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    assert subscriptions(app) == 2


def test_at_most_three_confirmation_requests_a_day(app, client, mailbox):
    for n in range(5):
        comment_of_lucia(client, app, text=f"Domanda numero {n}")
    send_mail(app)
    assert len(mailbox.to(LUCIA)) == 3
    # The window slides (24 hours, not the calendar day), and says so.
    response = send_comment(client, app, text="Ancora una", notify_replies="y")
    page = client.get(response.headers["Location"], follow_redirects=True)
    notice = soup(page).select_one(".comment-notice").get_text()
    assert notice.startswith("Nelle ultime 24 ore abbiamo già chiesto tre volte")


@pytest.mark.app_config(CONFIRMATIONS_PER_SENDER=2, **PUBLISHED_AT_ONCE)
def test_one_sender_has_few_new_addresses_asked_a_day(app, client, mailbox):
    # Each mailbox is asked three times at most, but a script typing a new
    # address each time would otherwise have the blog write to thousands.
    notices = []
    for n in range(3):
        client.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{n + 1}"  # one /64
        response = send_comment(
            client, app, text=f"Domanda {n}", email=f"p{n}@example.org", notify_all="y"
        )
        assert response.status_code == 302
        page = client.get(response.headers["Location"], follow_redirects=True)
        notices.append(soup(page).select_one(".comment-notice").get_text())
    assert notices[2].startswith("Dalla tua rete sono state chieste molte conferme")
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    assert (
        send_comment(other, app, email="p9@example.org", notify_all="y").status_code
        == 302
    )
    send_mail(app)
    asked = sorted(
        m.rcpt_tos[0] for m in mailbox.received if "moderazione@" not in m.rcpt_tos[0]
    )
    assert asked == ["p0@example.org", "p1@example.org", "p9@example.org"]


def test_one_mailbox_in_many_spellings_is_asked_three_times_a_day(app, client, mailbox):
    # IDNA reads each as victim@bücher.example: one mailbox, one address.
    spellings = (
        "victim@bücher.example",
        "victim@xn--bcher-kva.example",
        "victim@bu\u0308cher.example",
        "victim@\uff42ücher.example",
        "VICTIM@BÜCHER.EXAMPLE",
    )
    for n, email in enumerate(spellings):
        response = send_comment(
            client, app, text=f"Domanda {n}", email=email, notify_all="y"
        )
        assert response.status_code == 302
    send_mail(app)
    asked = [m for m in mailbox.received if "moderazione@" not in m.rcpt_tos[0]]
    assert [m.rcpt_tos for m in asked] == [["victim@xn--bcher-kva.example"]] * 3


def asked_to_confirm(client, app, mailbox, spellings: list[str]) -> list[str]:
    """Who got a confirmation request, once a comment asking for all the mails
    was sent with each of ``spellings``, in turn."""
    for n, email in enumerate(spellings):
        response = send_comment(
            client, app, text=f"Domanda {n}", email=email, notify_all="y"
        )
        assert response.status_code == 302
    send_mail(app)
    return [
        m.rcpt_tos[0] for m in mailbox.received if "moderazione@" not in m.rcpt_tos[0]
    ]


def test_tagged_spellings_of_one_mailbox_share_its_three_requests(app, client, mailbox):
    # Most mail servers deliver name+tag@domain to name@domain's inbox.
    spellings = [f"vittima+{n}@example.org" for n in range(5)] + [
        "vittima@example.org",
        "vittimax@example.org",  # another mailbox: its own requests
    ]
    assert asked_to_confirm(client, app, mailbox, spellings) == [
        "vittima+0@example.org",
        "vittima+1@example.org",
        "vittima+2@example.org",
        "vittimax@example.org",
    ]


def test_gmails_dotted_spellings_of_one_mailbox_share_its_three_requests(
    app, client, mailbox
):
    # Gmail ignores the dots of a name and reads googlemail.com as gmail.com.
    spellings = [
        "v.ittima@gmail.com",
        "vi.ttima@googlemail.com",
        "vit.tima+blog@gmail.com",
        "vitt.ima@gmail.com",
        "V.I.T.T.I.M.A@googlemail.com",
        "vittima@example.org",  # not Gmail: dots there may be another mailbox
        "vittimax@gmail.com",  # another Gmail mailbox
    ]
    assert asked_to_confirm(client, app, mailbox, spellings) == [
        "v.ittima@gmail.com",
        "vi.ttima@googlemail.com",
        "vit.tima+blog@gmail.com",
        "vittima@example.org",
        "vittimax@gmail.com",
    ]


def test_a_reply_is_mailed_when_approved_not_while_held(app, client, mailbox):
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    set_status(app, comment_id, "approved")
    reply_id = reply_to(app, comment_id, status="pending")
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    for status in ("spam", "trash"):
        set_status(app, reply_id, status)
        send_mail(app)
        assert mailbox.to(LUCIA) == []
    set_status(app, reply_id, "approved")
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    assert "Marco ha risposto al tuo commento" in mail.message["Subject"]
    assert "> Ecco la risposta" in mail.text
    assert "<strong>risposta</strong>" in mail.html
    assert f"Leggi e rispondi: http://127.0.0.1:5000/comment/{reply_id}/" in mail.text
    assert "marco@example.net" not in mail.message.as_string()


def test_withdrawn_before_the_outbox_ran_sends_nothing(app, client, mailbox):
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    set_status(app, comment_id, "approved")
    reply_id = reply_to(app, comment_id)
    set_status(app, reply_id, "pending")
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    set_status(app, reply_id, "approved")
    send_mail(app)
    assert len(mailbox.to(LUCIA)) == 1
    set_status(app, reply_id, "pending")
    set_status(app, reply_id, "approved")
    send_mail(app)
    assert len(mailbox.to(LUCIA)) == 1  # told once


def test_not_for_own_comments_nor_pingbacks(app, client, mailbox):
    comment_id = subscribed_and_confirmed(client, app, mailbox, "notify_all")
    set_status(app, comment_id, "approved")
    reply_to(app, comment_id, author_email="Lucia@Example.org ")
    add_comment(
        app,
        type="pingback",
        status="approved",
        source_url="http://192.0.2.7/post",
        content="cita l'articolo",
    )
    send_mail(app)
    assert mailbox.to(LUCIA) == []


def test_every_new_comment_for_the_second_choice(app, client, mailbox):
    subscribed_and_confirmed(client, app, mailbox, "notify_all")
    new_id = add_comment(app, status="approved", author_name="Paola")
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    assert "Paola ha scritto un nuovo commento" in mail.message["Subject"]
    assert f"/comment/{new_id}/" in mail.text


def test_a_quote_within_a_quote_starts_its_own_line_in_the_mail(app, client, mailbox):
    subscribed_and_confirmed(client, app, mailbox, "notify_all")
    add_comment(
        app,
        status="approved",
        content_html=(
            '<p>Dice:</p><blockquote>primo<blockquote cite="http://x.example/?a>b">'
            "secondo</blockquote>ancora</blockquote><p>fine</p>"
        ),
    )
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    quoted = [line.removeprefix("> ") for line in mail.text.splitlines()]
    start = quoted.index("Dice:")
    assert quoted[start : start + 5] == ["Dice:", "primo", "secondo", "ancora", "fine"]


@pytest.mark.parametrize("notify", ["notify_all", "notify_replies"])
def test_a_comment_marked_spam_ends_the_subscription_it_asked_for(
    app, client, mailbox, notify
):
    comment_id = subscribed_and_confirmed(client, app, mailbox, notify)
    with app.app_context():
        apply_action("spam", [comment_id])
        db.session.commit()
        assert db.session.scalar(select(func.count(Subscription.id))) == 0
    add_comment(app, status="approved", author_name="Paola")
    send_mail(app)
    assert mailbox.to(LUCIA) == []


def test_spam_on_another_comment_keeps_the_posts_subscription(app, client, mailbox):
    # Only what was asked with the comment marked spam ends.
    subscribed_and_confirmed(client, app, mailbox, "notify_all")
    later = comment_of_lucia(client, app, notify="notify_replies", text="Altro")
    with app.app_context():
        apply_action("spam", [later])
        db.session.commit()
        whole_post = select(func.count(Subscription.id)).where(
            Subscription.comment_id.is_(None)
        )
        assert db.session.scalar(whole_post) == 1


def test_an_edit_judged_spam_ends_the_subscription_too(app, mailbox):
    comment_id = add_comment(app, status="pending", author_email=LUCIA)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        subscribe(comment, "all", comment.created_at)
        db.session.commit()
        rules = CommentSettings(disallowed_words=("viagra",))
        edit_response(comment, "viagra a poco", rules, utcnow())
        assert comment.status == "spam"
        assert db.session.scalar(select(func.count(Subscription.id))) == 0


def test_a_new_comment_with_a_deleted_ones_id_is_announced(app, client, mailbox):
    # SQLite gives the id of the newest row, deleted for good, to the next one:
    # having been told of the first must not silence the second.
    subscribed_and_confirmed(client, app, mailbox, "notify_all")
    first = add_comment(app, status="approved", author_name="Paola")
    send_mail(app)
    assert len(mailbox.to(LUCIA)) == 1
    set_status(app, first, "trash")
    with app.app_context():
        apply_action("delete", [first])
        db.session.commit()
    add_comment(app, status="approved", author_name="Piero")
    send_mail(app)
    [first_mail, second_mail] = mailbox.to(LUCIA)
    assert "Piero ha scritto un nuovo commento" in second_mail.message["Subject"]


def test_a_reply_under_a_comment_no_longer_shown_is_mailed_to_nobody(
    app, client, mailbox
):
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    set_status(app, comment_id, "approved")
    set_status(app, comment_id, "trash")
    reply_to(app, comment_id)  # approved, but the page hides it with its parent
    send_mail(app)
    assert mailbox.to(LUCIA) == []


def test_deleting_ones_own_comment_ends_the_mails_asked_with_it(app, client, mailbox):
    comment_id = subscribed_and_confirmed(client, app, mailbox, "notify_all")
    page = soup(client.get(f"/comment/{comment_id}/delete"))
    assert "annulli anche le notifiche via email" in page.get_text()
    assert press(client, page, "Elimina il commento").status_code == 302
    assert subscriptions(app) == 0
    add_comment(app, status="approved", author_name="Paola")
    send_mail(app)
    assert mailbox.to(LUCIA) == []


def notified(app, client, mailbox):
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    set_status(app, comment_id, "approved")
    reply_to(app, comment_id)
    send_mail(app)
    [mail] = mailbox.take()
    return comment_id, mail


def test_each_notification_offers_one_click_unsubscribe(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    message = mail.message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://127.0.0.1:5000/email/disiscrivi/")
    assert message["List-Id"] == "Commenti di nOwmedia <commenti.127.0.0.1>"
    assert message["Message-ID"].endswith("@127.0.0.1>") and message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"


def test_the_unsubscribe_address_is_sent_as_written(app, client, mailbox):
    # What an SMTP server receives: an RFC 2047 encoded word (which Python's
    # email package writes for any word longer than a line) hides the address
    # from the mail clients that offer the one-click button.
    _, mail = notified(app, client, mailbox)
    raw = mail.raw.splitlines()
    [line] = [ln for ln in raw if ln.startswith(b"List-Unsubscribe:")]
    url = mail.message["List-Unsubscribe"]
    assert len(url) > 78
    assert line == b"List-Unsubscribe: " + url.encode("ascii")


def test_the_one_click_post_unsubscribes_without_cookies(app, client, mailbox):
    comment_id, mail = notified(app, client, mailbox)
    url = path_of(mail.message["List-Unsubscribe"].strip("<>"))
    mail_client = app.test_client()  # the mail provider: no cookie, no CSRF token
    response = mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriptions(app) == 0
    reply_to(app, comment_id, content="Un'altra")
    send_mail(app)
    assert mailbox.to(LUCIA) == []


def test_the_last_unsubscription_forgets_the_address(app, client, mailbox):
    # Nothing is left to mail it: neither its confirmation nor the record of
    # what it was sent is kept.
    _, mail = notified(app, client, mailbox)
    assert is_confirmed(app)
    url = path_of(mail.message["List-Unsubscribe"].strip("<>"))
    app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert not is_confirmed(app)
    with app.app_context():
        left = select(func.count()).where(OutboxMessage.recipient == LUCIA)
        assert db.session.scalar(left) == 0


def test_an_address_with_a_subscription_left_stays_confirmed(app, client, mailbox):
    comment_id, mail = notified(app, client, mailbox)
    with app.app_context():
        other_post = db.session.scalar(
            select(Post.id).where(Post.id != the_post().id).limit(1)
        )
        db.session.add(
            Subscription(email=LUCIA, post_id=other_post, confirmed_at=utcnow())
        )
        db.session.commit()
    url = path_of(mail.message["List-Unsubscribe"].strip("<>"))
    app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert is_confirmed(app)


def test_the_unsubscribe_link_changes_nothing_on_get(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    url = path_of(mail.message["List-Unsubscribe"].strip("<>"))
    response = client.get(url)
    # The URL is the address's key: no cache keeps it, no Referer carries it away.
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    page = soup(response)
    assert subscriptions(app) == 1
    press(client, page, "Annulla l'iscrizione")
    assert subscriptions(app) == 0


def test_unsubscribing_twice_says_there_is_nothing_left(app, client, mailbox):
    # The mail client's one-click, then the reader's own press: the second
    # ends nothing, and the page does not claim it did.
    _, mail = notified(app, client, mailbox)
    url = path_of(mail.message["List-Unsubscribe"].strip("<>"))
    first = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert "Iscrizione annullata" in soup(first).get_text()
    again = soup(client.get(url))
    assert "non c'è nulla da annullare" in again.get_text()
    assert again.find("button", string="Annulla l'iscrizione") is None
    second = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert "Iscrizione annullata" not in soup(second).get_text()


def press_over_https(client, path: str, label: str):
    """Open ``path`` over HTTPS and press ``label`` as a browser does: with the
    Referer its Referrer-Policy lets it send to the same site (none under
    ``no-referrer``), which CSRF protection over HTTPS requires."""
    page = client.get(path, base_url="https://localhost")
    assert page.status_code == 200
    policy = page.headers.get("Referrer-Policy", "strict-origin-when-cross-origin")
    headers = {} if policy == "no-referrer" else {"Referer": f"https://localhost{path}"}
    button = soup(page).find("button", string=label)
    form = button.find_parent("form")
    return client.post(
        form["action"],
        data=form_data(form, button),
        headers=headers,
        base_url="https://localhost",
    )


def test_the_confirmation_works_over_https(app, client, mailbox):
    comment_of_lucia(client, app)
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    response = press_over_https(client, path_of(mail.link("Conferma")), "Conferma")
    assert response.status_code == 200
    assert is_confirmed(app)


def test_the_page_of_subscriptions_works_over_https(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    path = path_of(mail.link("Le tue iscrizioni, per annullarne una o tutte"))
    response = press_over_https(client, path, "Annulla tutte le iscrizioni")
    assert response.status_code == 200
    assert subscriptions(app) == 0


def test_mail_links_still_open_after_a_key_change(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    path = path_of(mail.link("Le tue iscrizioni, per annullarne una o tutte"))
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "una-chiave-nuova-abbastanza-lunga"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get(path).status_code == 200
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get(path).status_code == 403


def test_pressing_again_says_there_was_nothing_left(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    path = path_of(mail.link("Le tue iscrizioni, per annullarne una o tutte"))
    page = soup(client.get(path))
    press(client, page, "Annulla tutte le iscrizioni")
    again = soup(press(client, page, "Annulla tutte le iscrizioni")).get_text()
    assert "Non c'era nessuna iscrizione attiva da annullare." in again


def test_the_page_of_subscriptions_ends_one_or_all(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    comment_of_lucia(client, app, "notify_all", text="Tutto, grazie")
    path = mail.link("Le tue iscrizioni, per annullarne una o tutte")
    page = soup(client.get(path))
    assert len(page.select("ul.subscriptions li")) == 2
    assert subscriptions(app) == 2
    first = page.select_one("ul.subscriptions li")
    press(client, page, "Annulla questa iscrizione", within=first)
    assert subscriptions(app) == 1
    press(client, soup(client.get(path)), "Annulla tutte le iscrizioni")
    assert subscriptions(app) == 0


def test_the_page_tells_a_waiting_subscription_from_a_confirmed_one(
    app, client, mailbox
):
    _, mail = notified(app, client, mailbox)
    # Asked again from another browser: it waits for the address's consent.
    other = app.test_client()
    assert send_comment(other, app, text="Di nuovo", notify_all="y").status_code == 302
    page = soup(client.get(mail.link("Le tue iscrizioni, per annullarne una o tutte")))
    items = [li.get_text(" ", strip=True) for li in page.select("ul.subscriptions li")]
    assert len(items) == 2
    assert "in attesa di conferma" not in items[0]
    assert "in attesa di conferma" in items[1]
    # Asked with a held comment: no mail has asked yet, and the page says why.
    app.config["COMMENT_HOLD_ALL"] = True
    third = app.test_client()
    assert (
        send_comment(third, app, text="Trattenuto", notify_all="y").status_code == 302
    )
    page = soup(client.get(mail.link("Le tue iscrizioni, per annullarne una o tutte")))
    items = [li.get_text(" ", strip=True) for li in page.select("ul.subscriptions li")]
    assert "in attesa che il commento sia approvato" in items[2]
    assert "in attesa che il commento sia approvato" not in items[1]


@pytest.mark.parametrize("choice", ["²", "", "-1", "9" * 40, "tutte"])
def test_an_odd_choice_ends_nothing_and_is_no_error(app, client, mailbox, choice):
    # "²".isdigit() is True, but int("²") raises.
    _, mail = notified(app, client, mailbox)
    page = soup(client.get(mail.link("Le tue iscrizioni, per annullarne una o tutte")))
    first = page.select_one("ul.subscriptions li")
    response = press(
        client, page, "Annulla questa iscrizione", within=first, subscription=choice
    )
    assert response.status_code == 200
    assert "nessuna iscrizione attiva da annullare" in response.get_data(as_text=True)
    assert subscriptions(app) == 1


@pytest.mark.parametrize("page", ["conferma", "iscrizioni", "disiscrivi"])
def test_a_forged_token_opens_nothing(app, client, mailbox, page):
    _, mail = notified(app, client, mailbox)
    real = path_of(mail.message["List-Unsubscribe"].strip("<>")).rsplit("/", 1)[1]
    forged = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    for method in (client.get, client.post):
        response = method(f"/email/{page}/{forged}")
        assert response.status_code in (400, 403)
    assert subscriptions(app) == 1


def test_another_address_token_cannot_be_made_from_a_real_one(app, client, mailbox):
    _, mail = notified(app, client, mailbox)
    path = mail.link("Le tue iscrizioni, per annullarne una o tutte")
    # A subscriptions token is no unsubscribe token, nor a confirmation.
    token = path.rsplit("/", 1)[1]
    assert client.post(f"/email/disiscrivi/{token}").status_code == 403
    assert client.get(f"/email/conferma/{token}").status_code == 403
    assert subscriptions(app) == 1


def test_an_expired_confirmation_is_refused_in_italian(app, client, mailbox):
    comment_of_lucia(client, app)
    send_mail(app)
    [mail] = [m for m in mailbox.take() if LUCIA in m.rcpt_tos]
    mailed = path_of(mail.link("Conferma")).rsplit("/", 1)[1]
    token = aged(app, "confirm", mailed, days=8)
    response = client.get(f"/email/conferma/{token}")
    assert response.status_code == 410
    assert "Il link è scaduto." in response.get_data(as_text=True)
    # No dead end: the page says how to ask again.
    assert "spunta di nuovo la casella" in response.get_data(as_text=True)
    # Pressed on a page opened in time, the button finds the link expired.
    fresh = aged(app, "confirm", mailed, days=6)
    page = soup(client.get(f"/email/conferma/{fresh}"))
    csrf = page.select_one('input[name="csrf_token"]')["value"]
    late = client.post(f"/email/conferma/{token}", data={"csrf_token": csrf})
    assert late.status_code == 410
    assert not is_confirmed(app)
    assert press(client, page, "Conferma").status_code == 200
    assert is_confirmed(app)


HELD = {"COMMENT_FLOOD_SECONDS": 0}  # every comment held, as by default


@pytest.mark.app_config(**HELD)
def test_the_pending_comment_stays_pending(app, client, mailbox):
    comment_id = comment_of_lucia(client, app)
    assert comment_status(app, comment_id) == "pending"


@pytest.mark.app_config(**HELD)
def test_a_held_comments_writer_is_asked_to_confirm_once_it_is_approved(
    app, client, mailbox
):
    """Nothing is mailed about a comment readers do not see: the reader is
    told the confirmation will come, and it comes with the approval."""
    response = send_comment(client, app, text="Domanda?", notify_replies="y")
    assert notice_after(response, client) == (
        "Quando il commento sarà approvato ti manderemo un'email: apri il link "
        "che contiene per confermare gli avvisi."
    )
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    assert waiting(app) == 1
    with app.app_context():
        comment_id = db.session.scalar(select(func.max(Comment.id)))
        apply_action("approve", [comment_id])
        db.session.commit()
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    assert mail.message["Subject"] == CONFIRM_SUBJECT
    assert "le risposte al tuo commento su «Chi è" in mail.text
    confirm(client, mailbox)
    assert waiting(app) == 0 and subscriptions(app) == 1
    # Approved again after a withdrawal: asked once only.
    set_status(app, comment_id, "pending")
    set_status(app, comment_id, "approved")
    send_mail(app)
    assert mailbox.to(LUCIA) == []


@pytest.mark.app_config(**HELD)
def test_a_spam_wave_held_for_moderation_makes_the_blog_write_to_nobody(
    app, client, mailbox
):
    for n in range(5):
        send_comment(
            client,
            app,
            text=f"Offerta {n}",
            email=f"vittima{n}@example.org",
            notify_all="y",
        )
    assert sum(waiting(app, f"vittima{n}@example.org") for n in range(5)) == 5
    send_mail(app)
    assert [m.rcpt_tos for m in mailbox.take()] == [["moderazione@nowmedia.example"]]
    with app.app_context():
        ids = db.session.scalars(select(Comment.id).where(Comment.status == "pending"))
        apply_action("spam", list(ids))
        db.session.commit()
    send_mail(app)
    assert mailbox.received == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Subscription.id))) == 0


@pytest.mark.app_config(**HELD)
def test_an_old_request_for_a_reused_id_does_not_count_as_asked(app, client, mailbox):
    # SQLite gives the id of the newest row, once deleted, to the next one: a
    # request sent for Anna's ended subscription is not Bruno's.
    anna = comment_of_lucia(client, app, text="Prima")
    with app.app_context():
        apply_action("approve", [anna])
        db.session.commit()
    send_mail(app)
    assert len(mailbox.to(LUCIA)) == 1
    with app.app_context():
        first = db.session.scalar(select(Subscription.id))
        db.session.execute(delete(Subscription))
        db.session.commit()
    bruno = app.test_client()
    send_comment(
        bruno, app, text="Seconda", email="bruno@example.org", notify_replies="y"
    )
    with app.app_context():
        if db.session.scalar(select(Subscription.id)) != first:
            pytest.skip("this database did not give the id again")
        bruno_comment = db.session.scalar(select(func.max(Comment.id)))
        apply_action("approve", [bruno_comment])
        db.session.commit()
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to("bruno@example.org")] == [
        CONFIRM_SUBJECT
    ]


@pytest.mark.app_config(**HELD)
def test_a_subscription_approved_but_not_yet_announced_outlives_the_purge(
    app, client, mailbox
):
    """Approved after ten days, and the purge runs before the outbox: the
    request still goes."""
    comment_id = comment_of_lucia(client, app)
    with app.app_context():
        db.session.execute(
            update(Subscription).values(created_at=utcnow() - timedelta(days=10))
        )
        apply_action("approve", [comment_id])
        db.session.commit()
        assert forget_unconfirmed(utcnow()) == 0
        db.session.commit()
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]


@pytest.mark.app_config(CONFIRMATIONS_PER_SENDER=2, **HELD)
def test_the_authors_approval_vouches_for_a_sender_of_many_addresses(
    app, client, mailbox
):
    # An office behind one address, or addresses erased by the IP retention:
    # once the author approves, each writer is asked (within a day's three).
    ids = []
    for n in range(3):
        send_comment(
            app.test_client(),
            app,
            text=f"Domanda {n}",
            email=f"collega{n}@example.org",
            notify_replies="y",
        )
        with app.app_context():
            ids.append(db.session.scalar(select(func.max(Comment.id))))
    with app.app_context():
        apply_action("approve", ids)
        db.session.commit()
    send_mail(app)
    assert sorted(
        r for m in mailbox.received for r in m.rcpt_tos if "collega" in r
    ) == [f"collega{n}@example.org" for n in range(3)]


def asked_earlier(app, *hours_ago: float, email: str = LUCIA) -> None:
    """Confirmation requests sent to ``email`` that many hours ago."""
    with app.app_context():
        for hours in hours_ago:
            moment = utcnow() - timedelta(hours=hours)
            db.session.add(
                OutboxMessage(
                    kind="confirm",
                    recipient=email,
                    status="sent",
                    created_at=moment,
                    sent_at=moment,
                )
            )
        db.session.commit()


def ask_rows(app) -> list[tuple[str, datetime]]:
    with app.app_context():
        return db.session.execute(
            select(OutboxMessage.status, OutboxMessage.next_attempt_at).where(
                OutboxMessage.kind == "ask"
            )
        ).all()


def time_passes(app, hours: float) -> None:
    """Every outbox row dated ``hours`` earlier, as if they had gone by."""
    with app.app_context():
        for row in db.session.scalars(select(OutboxMessage)):
            row.created_at -= timedelta(hours=hours)
        db.session.commit()


@pytest.mark.app_config(**HELD)
def test_a_mailbox_asked_three_times_that_day_is_asked_when_it_has_room(
    app, client, mailbox
):
    """The reader was told a mail would come with the approval: a mailbox
    that had its three requests of the day gets it when the oldest is a day
    old, and the subscription is kept meanwhile."""
    comment_id = comment_of_lucia(client, app)
    asked_earlier(app, 20, 10, 1)
    with app.app_context():
        apply_action("approve", [comment_id])
        db.session.commit()
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    [(status, due)] = ask_rows(app)
    assert status == "queued"
    assert abs(due - (utcnow() + timedelta(hours=4))) < timedelta(minutes=1)
    with app.app_context():
        assert forget_unconfirmed(utcnow() + timedelta(days=8)) == 0
        db.session.rollback()
        # Saving the post meanwhile leaves the request to the run that waits.
        post = db.session.get(Comment, comment_id).post_id
        assert subscriptions_module.ask_when_published(post) == 0
    time_passes(app, 4.1)
    send_mail(app, now=due)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]
    assert [status for status, _ in ask_rows(app)] == ["done"]


@pytest.mark.app_config(**HELD)
def test_a_mailbox_full_for_a_week_is_not_asked_after_the_approval(
    app, client, mailbox
):
    # As long as a confirmation link lasts: then the subscription is let go.
    comment_id = comment_of_lucia(client, app)
    with app.app_context():
        apply_action("approve", [comment_id])
        db.session.commit()
    time_passes(app, 24 * 7 + 1)
    asked_earlier(app, 20, 10, 1)
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    assert [status for status, _ in ask_rows(app)] == ["done"]


@pytest.mark.app_config(**HELD)
def test_a_comment_approved_on_a_draft_is_asked_when_the_post_is_published(
    app, author_client, mailbox
):
    """Readers see it only then; saving the post again asks nobody twice."""
    comment_id = comment_of_lucia(app.test_client(), app)
    with app.app_context():
        post = db.session.get(Comment, comment_id).post
        post.status, post_id = "draft", post.id
        apply_action("approve", [comment_id])
        db.session.commit()
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    listing = soup(author_client.get("/admin/posts"))
    row = next(tr for tr in listing.select("tbody tr") if "Community" in tr.text)
    press(author_client, listing, "Pubblica", within=row)
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]
    with app.app_context():
        assert subscriptions_module.ask_when_published(post_id) == 0


@pytest.mark.app_config(**HELD)
def test_a_run_for_a_hidden_comment_asks_the_visible_writers_of_its_thread(
    app, client, mailbox
):
    # The run queued at publication names any comment of a thread, perhaps
    # one under a held reply: the writers readers see are asked all the same.
    send_comment(app.test_client(), app, "Ciao", author="Marco", email="m@example.org")
    with app.app_context():
        root = db.session.scalar(select(func.max(Comment.id)))
        apply_action("approve", [root])
        db.session.commit()
    send_comment(client, app, "Risposta", notify_replies="y", comment_parent=str(root))
    held = send_comment(
        app.test_client(), app, "Altra", author="Bruno", comment_parent=str(root)
    )
    assert held.status_code == 302
    with app.app_context():
        lucia, bruno = db.session.scalars(
            select(Comment.id).where(Comment.parent_id == root).order_by(Comment.id)
        ).all()
        db.session.get(Comment, lucia).status = "approved"
        db.session.commit()
        # Its own run gone: the thread's run is the one for Bruno's.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.kind == "ask"))
        enqueue(subscriptions_module.ASK_KIND, ref_id=bruno)
        db.session.commit()
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]


@pytest.mark.app_config(**HELD)
def test_a_reply_approved_under_a_held_comment_is_asked_with_that_one(
    app, client, mailbox
):
    """Readers see a reply only under a published comment: its writer is
    asked to confirm when the comment it answers is approved too."""
    # Marco's comment as the form stores it (a thread's head has no thread id).
    send_comment(app.test_client(), app, "Ciao", author="Marco", email="m@example.org")
    with app.app_context():
        parent = db.session.scalar(select(func.max(Comment.id)))
        assert db.session.get(Comment, parent).thread_id is None
        apply_action("approve", [parent])
        db.session.commit()
    response = send_comment(
        client, app, text="Risposta", notify_replies="y", comment_parent=str(parent)
    )
    assert response.status_code == 302
    with app.app_context():
        reply = db.session.scalar(select(func.max(Comment.id)))
        assert db.session.get(Comment, reply).parent_id == parent
        # Marco's comment is withdrawn from the page before the reply is approved.
        apply_action("unapprove", [parent])
        apply_action("approve", [reply])
        db.session.commit()
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    with app.app_context():
        apply_action("approve", [parent])
        db.session.commit()
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]


def test_a_comment_marked_spam_ends_its_subscriptions_by_address_and_post(
    app, client, mailbox
):
    # A wave moved to spam ends a subscription per comment: each found by
    # the address's own rows of the post, not by every row of the post.
    comment_id = comment_of_lucia(client, app)
    with app.app_context():
        post_id = db.session.get(Comment, comment_id).post_id
        db.session.add_all(
            Subscription(email=f"onda{n}@example.org", post_id=post_id)
            for n in range(20)
        )
        db.session.commit()

    def spam() -> None:
        with app.app_context():
            apply_action("spam", [comment_id])
            db.session.commit()

    deletes = statements_during(
        app,
        lambda sql: sql.lstrip().upper().startswith("DELETE FROM SUBSCRIPTION"),
        spam,
    )
    assert deletes
    for sql, parameters in deletes:
        assert "ix_subscription_email_post" in sqlite_plan(app, sql, parameters)
    assert subscriptions(app) == 0


@pytest.mark.app_config(**HELD)
def test_an_address_the_author_corrects_on_a_held_comment_takes_its_request(
    app, client, mailbox
):
    # A typo in the form: the author's quick edit sends the request, at the
    # approval, to the address corrected.
    comment_id = comment_of_lucia(client, app)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        edit(comment, "Lucia", "lucia.rossi@example.org", "", "Domanda?")
        apply_action("approve", [comment_id])
        db.session.commit()
    send_mail(app)
    assert mailbox.to(LUCIA) == []
    [mail] = mailbox.to("lucia.rossi@example.org")
    assert mail.message["Subject"] == CONFIRM_SUBJECT


def test_a_confirmed_subscription_stays_with_the_address_that_confirmed_it(
    app, client, mailbox
):
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    set_status(app, comment_id, "pending")
    with app.app_context():
        edit(db.session.get(Comment, comment_id), "L", "altro@example.org", "", "D")
        db.session.commit()
    assert subscriptions(app) == 1 and subscriptions(app, "altro@example.org") == 0


@pytest.mark.app_config(**HELD)
def test_only_writers_whose_request_still_waits_are_looked_at(app, client, mailbox):
    # The approval's run reads one thread in one query and finds only them.
    waits = comment_of_lucia(client, app, text="Aspetta")
    asked = comment_of_lucia(app.test_client(), app, text="Chiesto")
    quiet = add_comment(app, author_name="Muto")
    with app.app_context():
        for comment_id in (waits, asked, quiet):
            db.session.get(Comment, comment_id).thread_id = waits
        db.session.commit()
        apply_action("approve", [waits, asked, quiet])
        db.session.commit()
        [sub] = db.session.scalars(
            select(Subscription).where(
                Subscription.created_at == db.session.get(Comment, asked).created_at
            )
        )
        enqueue(subscriptions_module.CONFIRM_KIND, ref_id=sub.id, recipient=LUCIA)
        db.session.commit()
        found = subscriptions_module.writers_to_ask(Comment.thread_id == waits)
        assert [c.id for c in found] == [waits]


@pytest.mark.app_config(**HELD)
def test_a_held_comments_subscription_waits_past_the_week_then_has_its_own(
    app, client, mailbox
):
    """An address typed with a held comment is kept while the comment waits,
    and for the week its confirmation link lasts once it is asked."""
    comment_id = comment_of_lucia(client, app, "notify_all")
    asked = utcnow() + timedelta(days=20)
    with app.app_context():
        assert forget_unconfirmed(asked) == 0  # the comment still waits
        apply_action("approve", [comment_id])
        db.session.commit()
    send_mail(app)
    assert [m.message["Subject"] for m in mailbox.to(LUCIA)] == [CONFIRM_SUBJECT]
    with app.app_context():
        # As if the author had approved it on the twentieth day.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "confirm")
            .values(created_at=asked)
        )
        assert forget_unconfirmed(asked + timedelta(days=6)) == 0
        assert forget_unconfirmed(asked + timedelta(days=8)) == 1
        db.session.commit()
    assert waiting(app) == 0


def test_another_browser_cannot_subscribe_a_confirmed_address(app, client, mailbox):
    subscribed_and_confirmed(client, app, mailbox)
    # Somebody else types Lucia's address, asking for every comment of the post.
    stranger = app.test_client()
    response = send_comment(stranger, app, text="Iscrivo Lucia", notify_all="y")
    assert response.status_code == 302
    assert waiting(app) == 1
    new_id = add_comment(app, status="approved", author_name="Paola")
    send_mail(app)
    # Lucia is asked, naming the post; the comment is not mailed to her.
    [mail] = [m for m in mailbox.take() if LUCIA in m.rcpt_tos]
    assert mail.message["Subject"] == CONFIRM_SUBJECT
    assert "i nuovi commenti su «Chi è e chi NON è il Community Manager?!»" in (
        mail.text
    )
    page = soup(client.get(mail.link("Conferma")))
    assert "«Chi è e chi NON è il Community Manager?!»" in page.get_text()
    # Only if she confirms does that subscription start.
    press(client, page, "Conferma")
    assert waiting(app) == 0
    add_comment(app, status="approved", author_name="Marta")
    send_mail(app)
    [mail] = [m for m in mailbox.take() if LUCIA in m.rcpt_tos]
    assert "Marta ha scritto un nuovo commento" in mail.message["Subject"]
    assert f"/comment/{new_id}/" not in mail.text


def test_confirming_starts_only_the_asking_browsers_subscriptions(app, client, mailbox):
    stranger = app.test_client()
    send_comment(stranger, app, text="Iscrivo Lucia", notify_all="y")
    comment_of_lucia(client, app)
    send_mail(app)
    links = [mail.link("Conferma") for mail in mailbox.to(LUCIA)]
    assert len(links) == 2
    # Lucia confirms the request her own comment made (the second one).
    press(client, soup(client.get(links[1])), "Conferma")
    assert is_confirmed(app)
    assert waiting(app) == 1  # the stranger's stays waiting
    with app.app_context():
        started = db.session.scalars(
            select(Subscription.comment_id).where(
                Subscription.confirmed_at.is_not(None)
            )
        ).all()
    assert len(started) == 1 and started[0] is not None  # replies to her comment


def test_a_request_mailed_before_the_upgrade_still_confirms(app, client, mailbox):
    # Rows and links from before subscriptions were confirmed one by one name
    # the address alone; they start the subscriptions whose browser is unknown.
    with app.app_context():
        post_id = db.session.scalar(select(Comment.post_id).limit(1))
        db.session.add(Subscription(email=LUCIA, post_id=post_id))
        db.session.commit()
        token = URLSafeTimedSerializer(app.secret_key, salt="blog.mail.confirm").dumps(
            LUCIA
        )
    page = soup(client.get(f"/email/conferma/{token}"))
    press(client, page, "Conferma")
    assert is_confirmed(app)
    assert waiting(app) == 0


def test_confirming_a_strangers_request_starts_that_one_and_trusts_nobody(
    app, client, mailbox
):
    stranger = app.test_client()
    for text in ("Iscrivo Lucia", "Ancora Lucia"):
        send_comment(stranger, app, text=text, notify_all="y")
    send_mail(app)
    first, _ = [mail.link("Conferma") for mail in mailbox.to(LUCIA)]
    mailbox.take()
    # Lucia confirms one mail, in her own browser: that subscription only.
    press(client, soup(client.get(first)), "Conferma")
    assert waiting(app) == 1
    # The stranger's browser gained nothing: a new request waits again.
    send_comment(stranger, app, text="Di nuovo Lucia", notify_all="y")
    assert waiting(app) == 2


def test_a_stranger_using_up_the_requests_does_not_strand_lucias_own(
    app, client, mailbox
):
    stranger = app.test_client()
    for n in range(3):
        send_comment(stranger, app, text=f"Iscrivo Lucia {n}", notify_all="y")
    comment_of_lucia(client, app)  # the day's three requests are gone: no mail
    send_mail(app)
    links = [mail.link("Conferma") for mail in mailbox.to(LUCIA)]
    assert len(links) == 3
    press(client, soup(client.get(links[0])), "Conferma")
    # Her browser has shown it reads her mail: her own subscription starts.
    with app.app_context():
        started = db.session.scalars(
            select(Subscription.comment_id).where(
                Subscription.confirmed_at.is_not(None)
            )
        ).all()
    assert len(started) == 2 and any(started)


def test_a_link_names_its_subscription_not_a_later_one_with_the_same_id(
    app, client, mailbox
):
    comment_of_lucia(client, app)
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    with app.app_context():
        db.session.execute(delete(Subscription))
        db.session.commit()
    stranger = app.test_client()
    send_comment(stranger, app, text="Iscrivo Lucia", notify_all="y")
    page = soup(client.get(mail.link("Conferma")))
    assert page.find("button", string="Conferma") is None
    # Even posted by hand, the old link confirms nothing of the stranger's.
    _, fields, _ = read_form(client)
    token = {"csrf_token": fields["csrf_token"]}
    assert client.post(mail.link("Conferma"), data=token).status_code == 200
    assert waiting(app) == 1


def test_a_request_queued_for_one_address_never_links_to_anothers(app, client, mailbox):
    # The stranger's subscription ends before the outbox runs, and SQLite
    # gives its id to Lucia's: the stranger's queued request must not become
    # a link that confirms hers.
    stranger = app.test_client()
    send_comment(stranger, app, text="Mia", email="evil@example.net", notify_all="y")
    with app.app_context():
        db.session.execute(delete(Subscription))
        db.session.commit()
    comment_of_lucia(client, app)
    send_mail(app)
    assert mailbox.to("evil@example.net") == []
    assert len(mailbox.to(LUCIA)) == 1


def notice_after(response, client) -> str | None:
    """The notice under the comment on the page the comment form led to."""
    page = client.get(response.headers["Location"], follow_redirects=True)
    found = soup(page).select_one(".comment-notice")
    return found.get_text() if found else None


def test_the_reader_is_told_under_the_comment_what_became_of_the_mail(
    app, client, mailbox
):
    asked = send_comment(client, app, text="Prima domanda", notify_replies="y")
    assert notice_after(asked, client) == subscriptions_module.NOTICES["asked"]
    # Once: a later page shows nothing.
    assert (
        soup(client.get(asked.headers["Location"], follow_redirects=True)).select_one(
            ".comment-notice"
        )
        is None
    )
    send_mail(app)
    confirm(client, mailbox)
    started = send_comment(client, app, text="Seconda domanda", notify_replies="y")
    assert notice_after(started, client) == subscriptions_module.NOTICES["started"]


def test_the_reader_is_told_when_the_days_requests_are_used_up(app, client, mailbox):
    for n in range(3):
        send_comment(client, app, text=f"Domanda {n}", notify_all="y")
    held = send_comment(client, app, text="Domanda 4", notify_all="y")
    assert notice_after(held, client) == subscriptions_module.NOTICES["not-asked"]


def test_without_the_box_nothing_is_told(app, client, mailbox):
    response = send_comment(client, app, text="Solo un commento")
    assert notice_after(response, client) is None


def test_two_outbox_runs_announcing_one_reply_tell_each_subscriber_once(
    app, client, mailbox, monkeypatch
):
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    set_status(app, comment_id, "approved")
    reply_id = reply_to(app, comment_id)
    with app.app_context():
        enqueue("visible", reply_id)  # approved, withdrawn, approved again
        db.session.commit()
        announcements = db.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.kind == "visible", OutboxMessage.ref_id == reply_id
            )
        ).all()
    assert len(announcements) == 2
    both_read = threading.Barrier(2)
    original = mails.recipients

    def recipients(comment):
        # Where both runs would have read "nobody told yet": the second waits
        # for the first at its lock instead, so this times out.
        try:
            both_read.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass
        return original(comment)

    monkeypatch.setattr(mails, "recipients", recipients)

    def announce(row_id: int) -> None:
        with app.app_context():
            mails.fan_out(db.session.get(OutboxMessage, row_id))
            db.session.commit()

    runs = [threading.Thread(target=announce, args=(row,)) for row in announcements]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=30)
    with app.app_context():
        told = db.session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.kind == "notice", OutboxMessage.ref_id == reply_id
            )
        ).all()
    assert told == [LUCIA]


def test_each_notice_costs_the_same_whatever_the_subscribers(app, client, mailbox):
    # A new comment mailed to every subscriber of the post: the outbox reads
    # the subscribers once (the fan-out), then each notice asks about its
    # own address by its index and finds the next row by the outbox's index,
    # never sorting the backlog (S notices over S subscribers read S² rows).
    comment_id = subscribed_and_confirmed(client, app, mailbox, "notify_all")
    with app.app_context():
        post_id = db.session.get(Comment, comment_id).post_id
        for n in range(12):
            db.session.add(
                Subscription(
                    email=f"lettore{n}@example.org",
                    post_id=post_id,
                    confirmed_at=utcnow(),
                )
            )
        db.session.commit()
    add_comment(
        app, status="approved", author_name="Marco", author_email="marco@example.net"
    )
    reads = statements_during(
        app,
        lambda sql: (
            sql.lstrip().upper().startswith("SELECT")
            and ("subscription" in sql or "mail_outbox" in sql)
        ),
        lambda: send_mail(app),
    )
    assert len(mailbox.take()) == 13
    every_subscriber = [sql for sql, _ in reads if "DISTINCT" in sql.upper()]
    assert len(every_subscriber) == 1  # the fan-out's, not one per notice
    for sql, parameters in reads:
        plan = sqlite_plan(app, sql, parameters)
        assert "TEMP B-TREE FOR ORDER BY" not in plan, (sql, plan)
        assert "SCAN subscription" not in plan and "SCAN mail_outbox" not in plan


def test_notices_about_one_post_are_one_conversation(app, client, mailbox):
    # A mail client groups what refers to the same message: every notice of
    # a post names the post's own conversation, none invents another.
    comment_id = subscribed_and_confirmed(client, app, mailbox, "notify_all")
    set_status(app, comment_id, "approved")
    reply_to(app, comment_id, content="Prima risposta")
    add_comment(
        app, author_name="Carla", author_email="carla@example.net", status="approved"
    )
    send_mail(app)
    first, second = mailbox.to(LUCIA)
    references = {mail.message["References"] for mail in (first, second)}
    [conversation] = references
    assert conversation.startswith("<post-") and conversation.endswith(
        ".commenti@127.0.0.1>"
    )
    assert first.message["In-Reply-To"] == conversation
    assert first.message["Message-ID"] != second.message["Message-ID"]


def test_a_notice_spells_out_the_links_of_the_readers_text(app, client, mailbox):
    # The mail comes from the blog: a reader's "confirm your address" must not
    # be a live link to another site in it, and the plain part shows where.
    comment_id = subscribed_and_confirmed(client, app, mailbox)
    reply_to(
        app,
        comment_id,
        content="conferma",
        content_html=clean_comment(
            'Per favore <a title="Accedi" href="https://phish.example/login">'
            "conferma il tuo indirizzo</a> e leggi https://blog.example/"
        ),
    )
    send_mail(app)
    [mail] = mailbox.to(LUCIA)
    assert "phish.example" not in str(
        BeautifulSoup(mail.html, "html.parser").find_all("a")
    )
    # Its own way out, which never expires, in the text as in the header.
    assert mail.link("Non ricevere più avvisi su questo articolo").startswith(
        "/email/disiscrivi/"
    )
    html_way_out = BeautifulSoup(mail.html, "html.parser").find(
        "a", string="Non ricevere più avvisi"
    )
    assert "/email/disiscrivi/" in html_way_out["href"]
    for part in (mail.text, mail.html):
        assert "conferma il tuo indirizzo [https://phish.example/login]" in part
        assert "https://blog.example/ [" not in part


def test_an_old_mails_subscriptions_link_expires_and_says_what_still_works(app, client):
    # Forwarded or in a shared mailbox, an old notice no longer lists and
    # ends the address's subscriptions; each new notice carries a fresh link.
    old = signed_days_ago(app, "manage", LUCIA, 61)
    response = client.get(f"/email/iscrizioni/{old}")
    assert response.status_code == 410
    assert "avviso più recente" in response.get_data(as_text=True)
    recent = signed_days_ago(app, "manage", LUCIA, 59)
    assert client.get(f"/email/iscrizioni/{recent}").status_code == 200
    # Nor does the one-click link of an old mail (which never expires) lead
    # to a fresh link to the list.
    with app.app_context():
        post_id = the_post().id
    for days, leads in ((61, False), (59, True)):
        one_click = signed_days_ago(app, "unsubscribe", [LUCIA, post_id], days)
        page = soup(client.get(f"/email/disiscrivi/{one_click}"))
        listed = page.find("a", string="Tutte le tue iscrizioni")
        assert (listed is not None) == leads
    # And the link it leads to is dated as that mail: it expires with it.
    token = listed["href"].rsplit("/", 1)[1]
    with app.app_context():
        _, signed = mailtokens._serializer("manage").loads(token, return_timestamp=True)
    assert abs(utcnow() - signed.replace(tzinfo=None) - timedelta(days=59)) < timedelta(
        minutes=1
    )


@pytest.mark.parametrize(
    ("typed", "spelled"),
    [
        # A ">" in an attribute, before or after the address.
        (
            '<a title="a>b" href="https://phish.example/x">vai</a>',
            "vai [https://phish.example/x]",
        ),
        (
            '<a href="https://phish.example/x" title="c>d">vai</a>',
            "vai [https://phish.example/x]",
        ),
        # An address with a double quote, which the cleaner quotes with single ones.
        (
            "<a href='https://phish.example/\"x'>vai</a>",
            "vai [https://phish.example/&quot;x]",
        ),
        # A bare address, made a link by the cleaner: its words say it already.
        ("leggi https://blog.example/", "leggi https://blog.example/"),
    ],
)
def test_every_link_of_a_readers_text_is_made_inert(typed, spelled):
    inert = mails.links_spelled_out(clean_comment(typed))
    assert "<a" not in inert
    assert spelled in inert


def test_a_self_closed_link_is_inert_too():
    # The cleaner never writes one; were it ever to, no live link all the same.
    inert = mails.links_spelled_out('<p><a href="https://phish.example/x"/></p>')
    assert inert == "<p> [https://phish.example/x]</p>"
