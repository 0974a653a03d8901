"""The outbox: a request stores a row, the worker or a command sends it later,
and a failure is tried again after a growing delay."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from helpers_admin import add_comment
from helpers_comments import send_comment
from helpers_mail import free_port, send_mail, smtp_server
from sqlalchemy import delete, select

from blog.core import jobs
from blog.extensions import db
from blog.mail import enqueue, outbox
from blog.mail.outbox import (
    MAX_ATTEMPTS,
    Postponed,
    _claim,
    _send,
    cannot_be_delivered,
    delay_after,
)
from blog.models import Comment, OutboxMessage, utcnow

AUTHOR = "moderazione@nowmedia.example"


def rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        rows = list(found)
        db.session.expunge_all()
        return rows


def notices_due(app) -> list[str]:
    """The texts of the responses whose held notice is marked, not yet queued."""
    with app.app_context():
        due = select(Comment.content).where(Comment.notice_due).order_by(Comment.id)
        return db.session.scalars(due).all()


def held_rows(app) -> list[OutboxMessage]:
    return [row for row in rows(app) if row.kind == "held"]


def test_a_comment_request_marks_the_notice_and_sends_nothing(app, client, mailbox):
    send_comment(client, app, text="Da avvisare")
    assert mailbox.received == []
    assert held_rows(app) == []  # the request wrote the comment's row alone
    assert notices_due(app) == ["Da avvisare"]
    assert send_mail(app) == 1
    assert notices_due(app) == []
    [row] = held_rows(app)
    assert (row.attempts, row.recipient) == (1, "")
    [mail] = mailbox.to(AUTHOR)
    assert "> Da avvisare" in mail.text
    assert held_rows(app)[0].status == "sent"


def test_the_author_notice_carries_the_headers_of_a_machine(app, mailbox):
    add_comment(app)
    send_mail(app)
    [mail] = mailbox.received
    message = mail.message
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@127.0.0.1>")
    assert message["Date"] and message["From"] == "nOwmedia <blog@nowmedia.example>"
    assert message.get_content_type() == "multipart/alternative"
    assert "Un commento" in mail.html


def test_a_sender_named_by_the_operator_keeps_that_name(app, mailbox):
    app.config["MAIL_FROM"] = '"Redazione, nOwmedia" <redazione@nowmedia.example>'
    add_comment(app)
    send_mail(app)
    [mail] = mailbox.received
    assert mail.message["From"].addresses[0].display_name == "Redazione, nOwmedia"
    assert mail.message["From"].addresses[0].addr_spec == "redazione@nowmedia.example"


def test_a_failure_is_retried_later_with_a_growing_delay(app, mailbox):
    working_port = mailbox.port
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    add_comment(app)
    start = utcnow()
    assert send_mail(app, start) == 0
    [row] = held_rows(app)
    assert row.status == "queued" and row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    assert row.next_attempt_at == start + delay_after(1)
    assert send_mail(app, start + timedelta(seconds=30)) == 0  # not due yet
    assert held_rows(app)[0].attempts == 1
    app.config["MAIL_PORT"] = working_port
    assert send_mail(app, start + delay_after(1)) == 1
    assert len(mailbox.to(AUTHOR)) == 1
    assert held_rows(app)[0].status == "sent"
    assert delay_after(3) == 4 * delay_after(1)


def test_a_failed_digest_keeps_each_rows_own_count_of_attempts(app, mailbox):
    # One row failed alone before; then it and two new ones fail as one digest.
    app.config["MAIL_PORT"] = free_port()
    add_comment(app)
    start = utcnow()
    send_mail(app, start)
    add_comment(app)
    add_comment(app)
    later = start + delay_after(1)
    assert send_mail(app, later) == 0
    assert [(r.status, r.attempts) for r in held_rows(app)] == [
        ("queued", 2),
        ("queued", 1),
        ("queued", 1),
    ]
    assert [r.next_attempt_at for r in held_rows(app)] == [
        later + delay_after(2),
        later + delay_after(1),
        later + delay_after(1),
    ]
    assert all(r.last_error for r in held_rows(app))


def test_a_renderer_may_postpone_its_row_keeping_what_it_stored(
    app, mailbox, monkeypatch
):
    # Not a failure: no attempt counted, no error, the row due again then.
    later = utcnow() + timedelta(hours=5)

    def not_yet(row: OutboxMessage) -> list:
        enqueue("note", ref_id=row.id)
        raise Postponed(later)

    monkeypatch.setitem(outbox._RENDERERS, "later", (not_yet, 1))
    monkeypatch.setitem(outbox._RENDERERS, "note", (lambda row: [], 1))
    with app.app_context():
        enqueue("later", ref_id=7)
        db.session.commit()
    assert send_mail(app) == 0
    [row] = [r for r in rows(app) if r.kind == "later"]
    assert (row.status, row.attempts, row.last_error) == ("queued", 0, "")
    assert row.next_attempt_at == later
    assert [r.ref_id for r in rows(app) if r.kind == "note"] == [row.id]
    assert mailbox.received == []


def test_after_the_last_attempt_it_is_given_up(app, mailbox):
    app.config["MAIL_PORT"] = free_port()
    add_comment(app)
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS + 2):
        send_mail(app, moment)
        moment += timedelta(days=1)
    [row] = held_rows(app)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error


def test_an_unknown_kind_is_not_lost_silently(app, mailbox):
    with app.app_context():
        enqueue("nessuno", 1)
        db.session.commit()
    send_mail(app)
    [row] = [row for row in rows(app) if row.kind == "nessuno"]
    assert row.status == "queued" and "nessun modello" in row.last_error


def test_flask_send_mail_drains_the_outbox(app, runner, mailbox):
    add_comment(app)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert result.output == "Email inviate: 1.\n"
    assert len(mailbox.to(AUTHOR)) == 1


def test_the_periodic_drain_of_mentions_sends_mail_too(app, runner, mailbox):
    add_comment(app)
    result = runner.invoke(args=["process-mentions"])
    assert result.exit_code == 0, result.output
    assert "Email inviate: 1." in result.output
    assert len(mailbox.to(AUTHOR)) == 1


def test_the_background_thread_sends_after_the_request(app, client, mailbox):
    app.config["BACKGROUND_WORKER"] = "thread"
    send_comment(client, app, text="Dal thread")
    assert jobs.wait_idle(timeout=20)
    [mail] = mailbox.to(AUTHOR)
    assert "> Dal thread" in mail.text


def test_a_row_erased_between_its_claim_and_its_sending_is_skipped(app, mailbox):
    # A reader's data erased while the worker held their row (privacy/): the
    # rest of the outbox still goes out.
    with app.app_context():
        enqueue("nessuno", 1)
        db.session.commit()
        erased = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.kind == "nessuno")
        )
        claimed = _claim(erased, "nessuno", 1, utcnow())
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id == erased))
        db.session.commit()
        assert _send(claimed, "nessuno", utcnow()) == 0
    add_comment(app)
    assert send_mail(app) == 1


def test_a_message_sent_long_ago_is_not_taken_for_one_due(app, mailbox):
    # A sent row's time is past its claim ten minutes later: only rows still
    # waiting are due, so the new notice goes out however old the sent one is.
    add_comment(app)
    start = utcnow()
    assert send_mail(app, start) == 1
    add_comment(app, author_name="Paola", content="Un secondo")
    assert send_mail(app, start + timedelta(minutes=11)) == 1
    assert len(mailbox.to(AUTHOR)) == 2


def test_retries_wait_a_minute_first_then_twice_as_long_up_to_twelve_hours():
    waits = [delay_after(n) for n in (1, 2, 10, 11, 12)]
    minutes = [int(wait.total_seconds() // 60) for wait in waits]
    assert minutes == [1, 2, 512, 720, 720]


def test_a_relay_down_for_a_day_loses_nothing():
    # The delays before the last attempt add up to more than a day.
    waited = sum((delay_after(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert waited > timedelta(days=1)


def test_an_address_the_relay_cannot_carry_is_given_up_at_once(app, mailbox, caplog):
    # A relay without SMTPUTF8 (as many): a non-ASCII name cannot cross it
    # however often it is tried.
    app.config["MAIL_AUTHOR"] = "redazi\u00f3n@nowmedia.example"
    add_comment(app)
    with smtp_server(enable_SMTPUTF8=False) as plain:
        app.config["MAIL_PORT"] = plain.port
        assert send_mail(app) == 0
    assert plain.received == []
    [row] = held_rows(app)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("SMTPNotSupportedError")
    assert "non recapitabile" in caplog.text and "Traceback" not in caplog.text


def test_what_the_operator_can_mend_is_tried_again():
    # A relay without STARTTLS, or one refusing to relay for us: the mail
    # waits for the setting to be mended. A bad mailbox is for good.
    assert not cannot_be_delivered(
        smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server.")
    )
    relaying = smtplib.SMTPRecipientsRefused(
        {"a@example.org": (554, b"5.7.1 Relay access denied")}
    )
    assert not cannot_be_delivered(relaying)
    for answer in (b"5.1.8 Sender address rejected", b"5.1.7 Invalid address"):
        ours = smtplib.SMTPRecipientsRefused({"a@example.org": (553, answer)})
        assert not cannot_be_delivered(ours)  # about our sender: a setting
    for answer in (b"5.1.1 No such user", b"5.1.1", b"5.1.10 Null MX"):
        unknown = smtplib.SMTPRecipientsRefused({"a@example.org": (550, answer)})
        assert cannot_be_delivered(unknown), answer
