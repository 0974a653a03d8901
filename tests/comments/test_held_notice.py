"""Held responses are emailed to the author from the outbox, by SMTP or to the log."""

from __future__ import annotations

import logging
import smtplib
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from flask.logging import default_handler
from helpers_admin import add_author, add_comment, comment_status
from helpers_comments import send_comment, sqlite_plan, statements_during
from helpers_mail import send_mail
from sqlalchemy import select

from blog.comments import notices
from blog.comments.mails import HELD_IN_FULL
from blog.comments.notices import QUIET, relay_held_marks
from blog.comments.operations import NewResponse, add_response
from blog.core import jobs
from blog.core.settings import current_settings, save_settings
from blog.extensions import db
from blog.mail import outbox as mail_outbox
from blog.mail import plain_text
from blog.models import Comment, OutboxMessage, Post, utcnow


@pytest.fixture
def outbox(monkeypatch):
    sent = []
    monkeypatch.setattr(mail_outbox, "deliver", sent.append)
    return sent


def held(app, **values) -> int:
    """A held comment, stored, then the outbox run as the worker would."""
    comment_id = add_comment(app, **values)
    send_mail(app)
    return comment_id


def test_a_held_comment_is_mailed_once_with_its_text_and_links(app, outbox):
    add_author(app)  # gives riccardo an email address
    comment_id = held(
        app, author_name="Anna", content="Che bell'articolo", author_ip="192.0.2.9"
    )
    [message] = outbox
    assert message["To"] == "riccardo@example.com"
    assert "Anna" in message["Subject"]
    body = plain_text(message)
    assert "Che bell'articolo" in body
    assert "192.0.2.9" in body
    assert "in attesa di approvazione" in body  # the rule that held it
    mail = "http://127.0.0.1:5000/admin/email/"
    for label in ("Approva", "Spam", "Cestino"):
        assert f"\n{label}: {mail}" in body
    assert (
        f"Rispondi: http://127.0.0.1:5000/admin/comments/{comment_id}?rispondi=1&creata="
        in body
    )


SPOOF = "Approva: http://evil.example/ok"


def body_lines(message) -> list[str]:
    return plain_text(message).splitlines()


def test_reader_text_comes_last_quoted_after_the_real_links(app, outbox):
    add_author(app)
    # Plain newlines and the separators some clients render as line breaks.
    forged = "Spam: http://evil.example/a\u2028Tutte le risposte in attesa: x"
    text = f"Grazie!\n{SPOOF}\n\n{forged}"
    comment_id = held(app, content=text, content_html="<p>ignorato</p>")
    base = f"http://127.0.0.1:5000/admin/comments/{comment_id}"
    lines = body_lines(outbox[0])
    mail = "Approva: http://127.0.0.1:5000/admin/email/"
    [approve] = [line for line in lines if line.startswith("Approva: ")]
    assert approve.startswith(mail)
    [spam] = [line for line in lines if line.startswith("Spam: ")]
    assert spam.startswith("Spam: http://127.0.0.1:5000/admin/email/")
    queue = [line for line in lines if line.startswith("Tutte le risposte in attesa: ")]
    assert len(queue) == 1
    marker = lines.index(
        "Testo del commento (scritto dal lettore, non contiene istruzioni del blog):"
    )
    [reply] = [n for n, line in enumerate(lines) if line.startswith("Rispondi: ")]
    assert lines[reply].startswith(f"Rispondi: {base}?rispondi=1&creata=")
    assert marker > reply
    assert lines[marker + 1 :] == [
        "> Grazie!",
        f"> {SPOOF}",
        ">",
        "> Spam: http://evil.example/a",
        "> Tutte le risposte in attesa: x",
    ]
    assert "ignorato" not in plain_text(outbox[0])  # the raw text, not the HTML


def test_the_html_part_shows_the_readers_links_as_text(app, outbox):
    # A reader's link labelled as one of the buttons: the author sees where it
    # leads, and no reader's link can be clicked among the blog's own.
    add_author(app)
    held(
        app,
        content='Ecco <a href="https://evil.example/x">Approva</a>\nseconda riga',
        content_html='<p>Ecco <a href="https://evil.example/x">Approva</a></p>',
    )
    html = outbox[0].get_body(("html",)).get_content()
    quote = BeautifulSoup(html, "html.parser").find_all("blockquote")[-1]
    assert quote.find("a") is None
    assert 'href="https://evil.example/x"' in quote.get_text()
    assert quote.find("br") is not None  # its lines kept
    links = [a["href"] for a in BeautifulSoup(html, "html.parser").find_all("a")]
    assert not any("evil.example" in href for href in links)


def test_reader_fields_with_line_breaks_cannot_add_a_line(app, outbox):
    add_author(app)
    held(
        app,
        author_name=f"Anna\n{SPOOF}\r\nSpam: http://evil.example/b",
        author_email="a@example.com\nCestino: http://evil.example/c",
        author_url="",
        source_url="http://192.0.2.7/\u2028Approva: http://evil.example/d",
        author_ip="192.0.2.9\x0bApprova: http://evil.example/e",
    )
    [message] = outbox
    lines = body_lines(message)
    # Each field stays on its own labelled line, whatever it carried.
    fields = ("Autore: Anna", "Email: a@", "Sito web: http://192", "Motivo: ")
    assert [line.split(":")[0] for line in lines if "evil" in line] == [
        "Autore",
        "Email",
        "Sito web",
    ]
    assert all(any(line.startswith(f) for line in lines) for f in fields)
    assert f"Anna {SPOOF} Spam: http://evil.example/b" in lines[2]
    assert "(IP: 192.0.2.9Approva: http://evil.example/e)" in lines[2]
    assert "\n" not in message["Subject"] and "Anna" in message["Subject"]


def test_approved_spam_and_the_authors_own_are_not_mailed(app, outbox):
    held(app, status="approved")
    held(app, status="spam")
    author_id = add_author(app)
    held(app, status="pending", author_id=author_id)
    assert outbox == []


def test_a_rolled_back_comment_is_not_mailed(app, outbox):
    with app.app_context():
        comment = Comment(post_id=1, status="pending", content="mai salvato")
        db.session.add(comment)
        db.session.flush()
        db.session.rollback()
        db.session.commit()
    send_mail(app)
    assert outbox == []


def test_without_a_mail_server_the_log_says_so_without_the_message(app, caplog):
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        held(app, content="Testo da registrare", author_email="lucia@example.org")
    assert "MAIL_SERVER non impostato" in caplog.text
    # The seed author has no address and MAIL_AUTHOR is unset: it says so too.
    assert "nessun destinatario: imposta MAIL_AUTHOR" in caplog.text
    assert "Oggetto:" in caplog.text
    # No reader's text or address, no link that acts without signing in.
    assert "Testo da registrare" not in caplog.text
    assert "lucia@example.org" not in caplog.text
    assert "/admin/email/" not in caplog.text


def test_in_debug_mode_the_whole_message_goes_to_the_log(app, caplog):
    app.debug = True
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        held(app, content="Testo da registrare")
    assert "Testo da registrare" in caplog.text
    assert "/admin/email/" in caplog.text


@contextmanager
def logging_as_under_gunicorn(app, handlers):
    """Loggers as gunicorn leaves them: root at WARNING with no handler (pytest's
    own are set aside), the app logger at WARNING with ``handlers``."""
    root, app_logger = logging.getLogger(), logging.getLogger(app.logger.name)
    saved = [(lg, lg.level, lg.handlers[:]) for lg in (root, app_logger)]
    try:
        root.handlers[:] = []
        root.setLevel(logging.WARNING)
        app_logger.handlers[:] = handlers
        app_logger.setLevel(logging.WARNING)
        yield
    finally:
        for logger, level, kept in saved:
            logger.handlers[:] = kept
            logger.setLevel(level)


# Flask adds its default handler to the app logger when no handler would take
# its records; gunicorn's loggers are not its ancestors. Both cases are checked.
@pytest.mark.parametrize("handlers", [[], [default_handler]], ids=["bare", "flask"])
def test_without_a_mail_server_the_message_reaches_stderr_once(app, capsys, handlers):
    with logging_as_under_gunicorn(app, handlers):
        held(app, content="Testo per il log di gunicorn")
    err = capsys.readouterr().err
    assert err.count("Email non inviata") == 1
    assert err.count("MAIL_SERVER non impostato") == 1


def test_without_any_recipient_there_is_no_empty_to_header(app, outbox):
    # The seed author has no email address and MAIL_AUTHOR is unset.
    held(app, content="Per nessuno")
    [message] = outbox
    assert message["To"] is None  # no empty To header


class FakeSMTP:
    """Records what the blog asks of an SMTP server; connects to nothing."""

    instances: list[FakeSMTP] = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port, self.calls, self.sent = host, port, [], []
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append("quit")

    def starttls(self, context=None):
        checks = context is not None and context.check_hostname
        self.calls.append("starttls" if checks else "starttls without checks")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        if FakeSMTP.fail:
            raise smtplib.SMTPServerDisconnected("gone")
        self.sent.append(message)


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.instances, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=2525,
        MAIL_USERNAME="blog",
        MAIL_PASSWORD="segreto",
        MAIL_USE_TLS=True,
        MAIL_FROM="blog@nowmedia.example",
        MAIL_AUTHOR="moderazione@nowmedia.example",
    )
    return FakeSMTP


def test_with_a_mail_server_it_is_sent_by_smtp(app, smtp):
    held(app, content="Via SMTP")
    [server] = smtp.instances
    assert (server.host, server.port) == ("127.0.0.1", 2525)
    assert server.calls == ["starttls", ("login", "blog", "segreto"), "quit"]
    [message] = server.sent
    assert message["From"] == "nOwmedia <blog@nowmedia.example>"
    assert message["To"] == "moderazione@nowmedia.example"
    assert "Via SMTP" in plain_text(message)


def test_a_mail_failure_is_logged_and_the_comment_kept(app, smtp, caplog):
    smtp.fail = True
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        comment_id = held(app)
    assert comment_status(app, comment_id) == "pending"
    assert "non inviata" in caplog.text


def test_with_a_mail_server_but_no_recipient_nothing_is_sent(app, smtp, caplog):
    app.config["MAIL_AUTHOR"] = ""  # and the seed author has no address
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        held(app, content="Senza destinatario")
    assert smtp.instances == []
    [record] = [r for r in caplog.records if "Email non inviata" in r.getMessage()]
    assert "nessun destinatario: imposta MAIL_AUTHOR" in record.getMessage()
    assert "MAIL_SERVER non impostato" not in record.getMessage()


def test_a_burst_of_held_responses_is_one_digest_with_every_button(app, outbox):
    """Held together before the outbox ran: one mail, not one per response, each
    with its own buttons, the texts last; one moderated meanwhile is left out."""
    add_author(app)
    names = ["Anna", "Bruno", "Carla", "Dario"]
    ids = [
        add_comment(app, author_name=name, content=f"Testo di {name}") for name in names
    ]
    with app.app_context():
        db.session.get(Comment, ids[1]).status = "spam"
        db.session.commit()
    send_mail(app)
    [message] = outbox
    assert message["Subject"].endswith("3 risposte da moderare")
    lines = body_lines(message)
    approves = [line for line in lines if line.startswith("Approva: ")]
    assert len(approves) == len(set(approves)) == 3
    for comment_id in (ids[0], ids[2], ids[3]):
        reply = f"Rispondi: http://127.0.0.1:5000/admin/comments/{comment_id}?"
        assert any(line.startswith(reply) for line in lines)
    assert "Testo di Bruno" not in plain_text(message)
    first_text = next(n for n, line in enumerate(lines) if line.startswith("Testo del"))
    assert all(
        not line.startswith(("Approva", "Rispondi")) for line in lines[first_text:]
    )
    assert lines[-1] == "> Testo di Dario"
    with app.app_context():
        statuses = db.session.scalars(
            db.select(mail_outbox.OutboxMessage.status).order_by(
                mail_outbox.OutboxMessage.id
            )
        ).all()
    assert statuses[-3:] == ["sent"] * 3
    # The one moderated before the run took no row of the outbox.
    assert held_notice_rows(app) == [ids[0], ids[2], ids[3]]


def test_a_lone_held_response_keeps_its_own_subject(app, outbox):
    add_author(app)
    held(app, author_name="Anna")
    [message] = outbox
    assert message["Subject"].endswith("Da moderare: Anna")


@pytest.mark.app_config(MAIL_HELD_DIGEST_MINUTES=0)  # two digests back to back
def test_a_digest_costs_the_same_queries_for_three_responses_or_thirty(
    app, outbox, count_queries
):
    add_author(app)
    send_mail(app)  # whatever the set-up queued
    outbox.clear()

    def statements_to_send(count: int) -> int:
        for number in range(count):
            add_comment(app, author_name=f"Lettore {number}")
        with count_queries() as counter:
            send_mail(app)
        return counter.count

    assert statements_to_send(3) == statements_to_send(30)
    assert len(outbox) == 2


def test_a_spam_wave_makes_one_short_mail_that_counts_the_rest(app, outbox):
    add_author(app)
    send_mail(app)
    outbox.clear()
    ids = [add_comment(app, author_name=f"Onda {n}") for n in range(HELD_IN_FULL + 3)]
    send_mail(app)
    [message] = outbox
    assert message["Subject"].endswith(f"{HELD_IN_FULL + 3} risposte da moderare")
    lines = body_lines(message)
    assert len([line for line in lines if line.startswith("Approva: ")]) == HELD_IN_FULL
    assert "E altre 3 risposte in attesa, nella coda." in lines
    assert "Onda 12" not in plain_text(message)
    html = message.get_body(("html",)).get_content()
    assert "E altre 3 risposte in attesa" in html
    with app.app_context():
        statuses = db.session.scalars(
            db.select(mail_outbox.OutboxMessage.status).where(
                mail_outbox.OutboxMessage.ref_id.in_(ids)
            )
        ).all()
    assert statuses == ["sent"] * len(ids)  # counted, so never mailed again


def test_a_wave_of_hundreds_is_still_one_mail(app, outbox):
    add_author(app)
    send_mail(app)
    outbox.clear()
    ids = [add_comment(app, author_name=f"Onda {n}") for n in range(120)]
    send_mail(app)
    [message] = outbox
    assert message["Subject"].endswith("120 risposte da moderare")
    assert f"E altre {120 - HELD_IN_FULL} risposte in attesa, nella coda." in (
        body_lines(message)
    )
    with app.app_context():
        statuses = set(
            db.session.scalars(
                db.select(mail_outbox.OutboxMessage.status).where(
                    mail_outbox.OutboxMessage.ref_id.in_(ids)
                )
            )
        )
    assert statuses == {"sent"}


def test_held_responses_arriving_while_a_digest_goes_out_wait_for_the_next_run(
    app, monkeypatch
):
    """Under a steady wave, a run makes one digest: the rows committed while it
    renders go out in the next run, which their commits schedule."""
    add_author(app)
    send_mail(app)
    sent = []

    def deliver_while_another_arrives(message):
        sent.append(message)
        if len(sent) == 1:
            add_comment(app, author_name="Arrivato durante l'invio")

    monkeypatch.setattr(mail_outbox, "deliver", deliver_while_another_arrives)
    add_comment(app, author_name="Primo")
    assert send_mail(app) == 1
    [first] = sent
    assert first["Subject"].endswith("Da moderare: Primo")
    assert send_mail(app, utcnow() + timedelta(minutes=5)) == 1
    assert sent[1]["Subject"].endswith("Da moderare: Arrivato durante l'invio")


def test_a_full_digest_is_followed_by_the_next_in_the_same_run(
    app, outbox, monkeypatch
):
    """A batch that came full means a backlog: the run goes on with it."""
    add_author(app)
    send_mail(app)
    outbox.clear()
    renderer, _ = mail_outbox._RENDERERS["held"]
    monkeypatch.setitem(mail_outbox._RENDERERS, "held", (renderer, 3))
    for n in range(5):
        add_comment(app, author_name=f"Onda {n}")
    assert send_mail(app) == 2
    first, second = outbox
    assert first["Subject"].endswith(" 3 risposte da moderare")
    assert second["Subject"].endswith(" 2 risposte da moderare")


def test_held_responses_soon_after_a_notice_wait_and_then_go_out_as_one(app, outbox):
    """A steady wave: the first held response is mailed at once, those of the
    next five minutes (the default) together when they are over."""
    add_author(app)
    held(app, author_name="Primo")
    assert len(outbox) == 1
    add_comment(app, author_name="Secondo")
    add_comment(app, author_name="Terzo")
    assert send_mail(app, utcnow() + timedelta(minutes=4)) == 0
    assert len(outbox) == 1
    assert send_mail(app, utcnow() + timedelta(minutes=5, seconds=1)) == 1
    assert outbox[1]["Subject"].endswith(" 2 risposte da moderare")


def test_the_author_sets_the_time_between_notices(app, outbox):
    add_author(app)
    with app.app_context():
        save_settings(replace(current_settings(), held_digest_minutes=30))
        db.session.commit()
    held(app, author_name="Primo")
    add_comment(app, author_name="Secondo")
    assert send_mail(app, utcnow() + timedelta(minutes=29)) == 0
    assert send_mail(app, utcnow() + timedelta(minutes=30, seconds=1)) == 1
    with app.app_context():
        save_settings(replace(current_settings(), held_digest_minutes=0))
        db.session.commit()
    held(app, author_name="Terzo")  # at once: no time asked between notices
    assert [m["Subject"].rsplit(": ", 1)[-1] for m in outbox] == [
        "Primo",
        "Secondo",
        "Terzo",
    ]


def test_other_mail_does_not_wait_for_the_notices_spacing(app, outbox, monkeypatch):
    # A reader's confirmation or reply notice goes while held ones wait.
    add_author(app)
    held(app, author_name="Primo")
    add_comment(app, author_name="Secondo")
    monkeypatch.setitem(
        mail_outbox._RENDERERS, "altro", (lambda row: [f"altro {row.ref_id}"], 1)
    )
    with app.app_context():
        mail_outbox.enqueue("altro", 7)
        db.session.commit()
    assert send_mail(app) == 1
    assert outbox[-1] == "altro 7"


def test_a_notice_being_sent_counts_as_the_last_one(app, monkeypatch):
    """Another process's run, while the first digest is still with the
    relay, sends nothing: the wave gets one mail, however many processes."""
    add_author(app)
    sent, nested = [], []

    def deliver_while_another_run_starts(message):
        sent.append(message)
        if len(sent) == 1:
            add_comment(app, author_name="Durante")
            nested.append(send_mail(app))

    monkeypatch.setattr(mail_outbox, "deliver", deliver_while_another_run_starts)
    add_comment(app, author_name="Primo")
    assert send_mail(app) == 1
    assert nested == [0] and len(sent) == 1
    assert send_mail(app, utcnow() + timedelta(minutes=5, seconds=1)) == 1
    assert sent[1]["Subject"].endswith("Da moderare: Durante")


def test_a_notice_stamped_ahead_leaves_the_spacing_to_the_ones_before(app, outbox):
    # Stamped by a clock that was ahead: it holds the next notice no longer,
    # and the spacing counts from the latest notice before it, as if it were
    # not there (each later one is stamped now, older than it).
    add_author(app)
    held(app, author_name="Avanti")
    with app.app_context():
        db.session.execute(
            db.update(mail_outbox.OutboxMessage).values(
                sent_at=utcnow() + timedelta(days=1)
            )
        )
        db.session.commit()
    held(app, author_name="Primo")
    add_comment(app, author_name="Secondo")
    assert send_mail(app) == 0
    assert [m["Subject"].rsplit(": ", 1)[-1] for m in outbox] == ["Avanti", "Primo"]


def test_the_last_notice_is_found_at_the_end_of_an_index(app, outbox):
    # However many held rows wait behind it in a wave.
    add_author(app)
    held(app, author_name="Primo")
    add_comment(app, author_name="Secondo")
    reads = statements_during(
        app,
        lambda sql: "sent_at" in sql and sql.lstrip().upper().startswith("SELECT"),
        lambda: send_mail(app),
    )
    plans = [sqlite_plan(app, sql, parameters) for sql, parameters in reads]
    assert plans and all("ix_mail_outbox_kind_sent" in plan for plan in plans), plans


def test_the_worker_sends_the_waiting_notices_when_the_time_is_over(
    app, client, outbox, monkeypatch
):
    """Nothing else needs to arrive: the process that held them back sends
    them when the spacing ends (here shortened to a second)."""
    app.config["BACKGROUND_WORKER"] = "thread"
    monkeypatch.setitem(mail_outbox._SPACINGS, "held", lambda: timedelta(seconds=1))
    add_author(app)
    send_comment(client, app, text="Il primo")
    assert jobs.wait_idle(timeout=20)
    assert len(outbox) == 1
    add_comment(app, content="Il secondo")  # its commit wakes the worker
    assert jobs.wait_idle(timeout=20)
    deadline = time.monotonic() + 20
    while len(outbox) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        jobs.wait_idle(timeout=20)
    assert "Il secondo" in plain_text(outbox[1])


def test_responses_moderated_before_the_mail_are_not_counted(app, outbox):
    add_author(app)
    send_mail(app)
    outbox.clear()
    ids = [add_comment(app, author_name=f"Onda {n}") for n in range(HELD_IN_FULL + 3)]
    for comment_id in ids[:2]:
        with app.app_context():
            db.session.get(Comment, comment_id).status = "approved"
            db.session.commit()
    outbox.clear()  # the approvals' own news
    send_mail(app)
    held_notices = [m for m in outbox if "da moderare" in m["Subject"]]
    [message] = held_notices
    assert message["Subject"].endswith(f"{HELD_IN_FULL + 1} risposte da moderare")
    assert "E un'altra risposta in attesa, nella coda." in body_lines(message)
    assert "Onda 0" not in plain_text(message)


@pytest.mark.parametrize(
    ("kind", "arrived", "text_of"),
    [
        ("comment", "Un nuovo commento", "Testo del commento (scritto dal lettore"),
        ("pingback", "Un nuovo pingback", "Estratto del pingback (da un altro sito"),
        (
            "webmention",
            "Una nuova webmention",
            "Estratto della webmention (da un altro sito",
        ),
    ],
)
def test_the_notice_names_each_kind_in_its_gender(app, outbox, kind, arrived, text_of):
    add_author(app)
    values = {"source_url": "https://altro.example/a"} if kind != "comment" else {}
    held(app, type=kind, **values)
    [message] = outbox
    text = plain_text(message)
    assert f"{arrived} su «" in text
    assert f"{text_of}, non contiene istruzioni del blog):" in text


def held_notice_rows(app) -> list[int]:
    """The ids the outbox's held-notice rows are about."""
    with app.app_context():
        rows = select(OutboxMessage.ref_id).where(OutboxMessage.kind == "held")
        return sorted(db.session.scalars(rows))


def test_the_mail_job_turns_each_mark_into_one_row_due_since_the_arrival(app):
    first = add_comment(app, author_name="Una")
    second = add_comment(app, author_name="Due")
    with app.app_context():
        arrived = db.session.get(Comment, first).created_at
        assert relay_held_marks() == 2
        assert relay_held_marks() == 0  # each mark is taken once
        row = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.ref_id == first)
        )
        assert row.next_attempt_at == arrived == row.created_at
    assert held_notice_rows(app) == [first, second]


def test_a_backlog_of_marks_is_taken_a_chunk_a_commit(app, monkeypatch):
    """After the worker was off, the relay holds the write lock for one chunk
    at a time: comments keep being stored between them."""
    monkeypatch.setattr(notices, "RELAY_BATCH", 2)
    ids = [add_comment(app, author_name=f"Arretrato {n}") for n in range(5)]
    relayed = []

    def relay() -> None:
        with app.app_context():
            relayed.append(relay_held_marks())

    takes = statements_during(
        app, lambda sql: sql.lstrip().startswith("UPDATE comment"), relay
    )
    assert len(takes) == 3  # 2, 2, 1, each committed before the next
    assert relayed == [5]
    assert held_notice_rows(app) == ids


@pytest.mark.backends("sqlite")
def test_a_chunk_of_marks_fits_an_older_sqlite_s_parameter_limit(app, monkeypatch):
    """SQLite before 3.32 takes at most 999 parameters a statement, fewer than
    a chunk's ids: they are not bound one by one."""
    monkeypatch.setattr(notices, "RELAY_BATCH", 30)
    ids = [add_comment(app, author_name=f"Onda {n}") for n in range(30)]
    with app.app_context():
        driver = db.session.connection().connection.dbapi_connection
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)
        try:
            assert relay_held_marks() == 30
        finally:
            driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    assert held_notice_rows(app) == ids


def test_taking_a_mark_is_no_change_of_the_response(app):
    comment_id = add_comment(app)
    with app.app_context():
        before = db.session.get(Comment, comment_id).updated_at
        db.session.rollback()
        assert relay_held_marks() == 1
        assert db.session.get(Comment, comment_id).updated_at == before


def test_a_held_response_moderated_or_erased_before_the_job_runs_is_no_news(
    app, outbox
):
    erased = add_comment(app, author_name="Cancellato")
    approved = add_comment(app, author_name="Approvato")
    waiting = add_comment(app, author_name="In attesa")
    with app.app_context():
        db.session.delete(db.session.get(Comment, erased))
        db.session.get(Comment, approved).status = "approved"
        db.session.commit()
    send_mail(app)
    assert held_notice_rows(app) == [waiting]
    [message] = outbox
    assert "In attesa" in message["Subject"]


def test_a_response_added_without_a_status_is_held_and_marked(app):
    with app.app_context():
        comment = Comment(post_id=1, author_name="Anna", content="Senza stato")
        db.session.add(comment)
        db.session.commit()
        assert comment.status == "pending"
        assert relay_held_marks() == 1


def test_a_bulk_load_marks_no_held_notice(app):
    with app.app_context():
        db.session.info[QUIET] = True
        try:
            add_response(
                db.session.get(Post, 1),
                NewResponse(
                    content="Importato", author_name="Da WordPress", status="pending"
                ),
            )
        finally:
            db.session.info.pop(QUIET)
        assert relay_held_marks() == 0


def test_a_relay_that_fails_leaves_the_rest_of_the_outbox_going(
    app, outbox, monkeypatch, caplog
):
    held(app, author_name="Già in coda")  # its row is in the outbox, sent
    outbox.clear()
    add_comment(app, author_name="Accodato prima")
    with app.app_context():
        relay_held_marks()

    def broken_feeder():
        raise RuntimeError("database sparito")

    monkeypatch.setattr(mail_outbox, "_FEEDERS", [broken_feeder])
    send_mail(app, utcnow() + timedelta(hours=1))
    [message] = outbox
    assert "Accodato prima" in message["Subject"]
    assert "broken_feeder non riuscito" in caplog.text


@pytest.mark.backends("postgresql")
def test_a_marked_row_another_transaction_holds_waits_for_the_next_run(
    app, outbox, db_backend
):
    queued = add_comment(app, author_name="Accodato")
    with app.app_context():
        relay_held_marks()
    busy = add_comment(app, author_name="Occupato")
    with app.app_context(), db.engine.connect() as other:
        # An edit, or a reply's fan-out sending its mail, holds the row.
        other.execute(
            select(Comment.id).where(Comment.id == busy).with_for_update()
        ).all()
        started = time.monotonic()
        send_mail(app)
        assert time.monotonic() - started < 2  # not the lock timeout's 5 s
        assert held_notice_rows(app) == [queued]
        other.rollback()
    assert "Accodato" in outbox[0]["Subject"]
    with app.app_context():
        assert relay_held_marks() == 1
    assert held_notice_rows(app) == [queued, busy]
