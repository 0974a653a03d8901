"""The headers of our mails stay the ones we write, whatever readers type."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult
from helpers_comments import send_comment
from helpers_mail import send_mail, smtp_server
from helpers_tls import self_signed

from blog.mail.message import (
    MAIL_POLICY,
    UnsafeHeaderError,
    _set_header,
    build_message,
    deliver,
)

# A name that some Python builds would write out as two headers and a body:
# the header parser decodes the encoded word, CR LF included.
FORGED_NAME = (
    "=?utf-8?q?Staff=0D=0AReply-To:_attacker@example.net=0D=0A"
    "Bcc:_evil@example.net=0D=0A=0D=0AIl_tuo_account_scade?="
)
OUR_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}


def header_names(raw: bytes) -> set[str]:
    """The names of the message's own headers, as its bytes give them."""
    block = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    return {
        line.split(":", 1)[0].lower()
        for line in block.splitlines()
        if line and not line[0].isspace()
    }


def test_an_encoded_word_in_the_subject_stays_text(app):
    with app.app_context():
        message = build_message("lettore@example.org", f"Da: {FORGED_NAME}", "ciao")
    raw = message.as_bytes()
    assert header_names(raw) == OUR_HEADERS
    assert b"attacker@example.net" not in raw.split(b"\n\n", 1)[1]
    # The reader's text is shown as typed, not decoded into headers.
    assert "Reply-To:_attacker@example.net" in message["Subject"]


def test_a_blog_on_an_accented_domain_still_sends_its_mail(app, mailbox):
    # Message-ID and List-Id hold the blog's domain: a header takes it in
    # IDNA form (the accented one stopped every mail, retried and given up).
    app.config.update(SITE_URL="https://blog.perché.it")
    with app.app_context():
        message = build_message("lettore@example.org", "Prova", "Testo")
        deliver(message)
    assert message["Message-ID"].endswith("@blog.xn--perch-fsa.it>")
    [received] = mailbox.take()
    assert received.message["Message-ID"] == message["Message-ID"]


def test_the_date_says_its_zone(app):
    # -0000 means "zone unknown" (RFC 5322 3.3): the time is UTC, +0000.
    with app.app_context():
        message = build_message("lettore@example.org", "Prova", "Testo")
    assert message["Date"].endswith(" +0000")


def test_a_domain_outside_ascii_is_written_as_idna(app):
    # A relay without SMTPUTF8 refuses "bücher.example" but delivers its A-label.
    with app.app_context():
        message = build_message("victim@bücher.example", "Conferma", "ciao")
    assert message["To"] == "victim@xn--bcher-kva.example"


def test_a_header_whose_value_would_break_the_line_is_never_set():
    # What any value reaching a header is checked for, however it got there.
    message = EmailMessage(policy=MAIL_POLICY)
    with pytest.raises(UnsafeHeaderError):
        _set_header(message, "Subject", "=?utf-8?q?a=0D=0ABcc:_e@example.net?=")


def test_a_forged_name_adds_no_header_to_the_authors_notice(app, client, mailbox):
    response = send_comment(client, app, author=FORGED_NAME, text="Da moderare")
    assert response.status_code == 302
    send_mail(app)
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["moderazione@nowmedia.example"]
    names = header_names(mail.raw)
    assert "reply-to" not in names and "bcc" not in names
    assert mail.message.get_content_type() == "multipart/alternative"


def test_starttls_refuses_a_server_whose_certificate_it_cannot_trust(
    app, tmp_path, caplog
):
    # A relay (or whoever answers in its place) with a certificate of its own
    # making: the password is never sent, and the message stays to be retried.
    key, cert = self_signed(tmp_path, "127.0.0.1")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = []

    def note_login(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data)
        return AuthResult(success=True)

    with smtp_server(
        tls_context=tls, require_starttls=True, authenticator=note_login
    ) as relay:
        app.config.update(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=relay.port,
            MAIL_USE_TLS=True,
            MAIL_USERNAME="blog@example.org",
            MAIL_PASSWORD="segreta-smtp",
        )
        with app.app_context(), pytest.raises(ssl.SSLCertVerificationError):
            deliver(build_message("autore@example.org", "Prova", "Testo"))
        assert logins == [] and relay.take() == []
