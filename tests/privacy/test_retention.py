"""Commenters' IP addresses and browsers are cleared after a while (#14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_admin import add_comment
from helpers_comments import send_comment
from sqlalchemy import select

from blog.comments.operations import NewResponse, add_response
from blog.core.settings import RESPONSES_VERSION_KEY, content_version
from blog.extensions import db
from blog.mail.outbox import SENT_KEPT, forget_sent
from blog.models import (
    Comment,
    OutboxMessage,
    Setting,
    Subscription,
    UsedToken,
    WebmentionRequest,
    utcnow,
)
from blog.privacy.retention import purge_expired, purge_ips, purge_trash

NOW = utcnow()


def aged(app, days: float, **values) -> int:
    return add_comment(
        app,
        author_ip="192.0.2.10",
        user_agent="Firefox/120",
        created_at=NOW - timedelta(days=days),
        **values,
    )


def sender_traces(app, comment_id: int) -> tuple[str, str]:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return comment.author_ip, comment.user_agent


def test_older_than_the_retention_are_cleared_newer_kept(app):
    old, recent = aged(app, 60.01), aged(app, 59.99)
    with app.app_context():
        assert purge_ips(NOW, 60) == 1
        assert purge_ips(NOW, 60) == 0  # nothing left to clear
    assert sender_traces(app, old) == ("", "")
    assert sender_traces(app, recent) == ("192.0.2.10", "Firefox/120")


def test_zero_days_keeps_them(app):
    old = aged(app, 3650)
    with app.app_context():
        assert purge_ips(NOW, 0) == 0
    assert sender_traces(app, old) == ("192.0.2.10", "Firefox/120")


def test_the_rest_of_the_comment_stays(app):
    old = aged(app, 90, author_name="Lucia", content="Testo")
    with app.app_context():
        purge_ips(NOW, 60)
        comment = db.session.get(Comment, old)
        assert (comment.author_name, comment.content) == ("Lucia", "Testo")


def test_a_blocks_reason_loses_the_ip_it_named(app):
    blocked = aged(app, 90, moderation_reason="indirizzo bloccato (IP 192.0.2.10)")
    by_email = aged(
        app, 90, moderation_reason="indirizzo bloccato (email lucia@example.org)"
    )
    recent = aged(app, 1, moderation_reason="indirizzo bloccato (IP 192.0.2.10)")
    with app.app_context():
        purge_ips(NOW, 60)
        reasons = [
            db.session.get(Comment, i).moderation_reason
            for i in (blocked, by_email, recent)
        ]
    assert reasons == [
        "indirizzo bloccato (IP)",
        "indirizzo bloccato (email lucia@example.org)",
        "indirizzo bloccato (IP 192.0.2.10)",
    ]


def stored_setting(key: str) -> str | None:
    return db.session.scalar(select(Setting.value).where(Setting.key == key))


def test_the_purge_leaves_the_readers_cached_pages_alone(app):
    # Readers are shown neither the address nor the browser; the purge runs at
    # each worker's first request, then hourly, and must not make every worker
    # render its pages again. The queue, which shows addresses, sees it.
    old = aged(app, 90, status="approved")
    with app.app_context():
        content, responses = content_version(), stored_setting(RESPONSES_VERSION_KEY)
    with app.app_context():
        assert purge_ips(NOW, 60) == 1
    with app.app_context():
        assert content_version() == content
        assert stored_setting(RESPONSES_VERSION_KEY) != responses
    assert sender_traces(app, old) == ("", "")


@pytest.mark.app_config(COMMENT_IP_RETENTION_DAYS=30)
def test_the_cli_uses_the_setting_or_days(app, runner):
    month_and_a_half, week = aged(app, 45), aged(app, 7)
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Commenti ripuliti: 1\n")
    assert sender_traces(app, month_and_a_half) == ("", "")
    # By its first name too, as crontabs written before call it, though the
    # command list offers only the name that says what it does.
    again = runner.invoke(args=["purge-ips", "--days", "5"])
    assert again.output.startswith("Commenti ripuliti: 1\n")
    assert sender_traces(app, week) == ("", "")
    listed = runner.invoke(args=["--help"]).output
    assert "purge-expired" in listed and "purge-ips" not in listed


def test_the_flood_and_duplicate_rules_keep_working(app, client):
    # A reader's earlier comment, long ago: its address is gone.
    aged(app, 90, author_name="Lucia", author_email="lucia@example.org")
    with app.app_context():
        purge_ips(NOW, 60)
    assert send_comment(client, app, "Primo").status_code == 302
    # The flood rule sees the fresh comment's address and email.
    other = app.test_client()
    refused = send_comment(other, app, "Secondo", email="altro@example.org")
    assert refused.status_code == 429
    with app.app_context():
        db.session.execute(
            db.update(Comment).values(created_at=NOW - timedelta(days=1))
        )
        db.session.commit()
        purge_ips(NOW, 60)
    # The same writer from another browser (from the same one, the repeat
    # leads to the first comment).
    assert send_comment(app.test_client(), app, "Primo").status_code == 409


def test_the_background_worker_purges_once_an_hour(app, client, monkeypatch):
    from blog.core import jobs
    from blog.privacy import retention

    old = aged(app, 61)
    monkeypatch.setattr(retention, "_next_purge", [0.0])
    app.config["BACKGROUND_WORKER"] = "thread"
    client.get("/")
    assert jobs.wait_idle(timeout=20)
    assert sender_traces(app, old) == ("", "")
    # Within the hour the next requests leave the job alone.
    again = aged(app, 61)
    client.get("/")
    assert jobs.wait_idle(timeout=20)
    assert sender_traces(app, again) == ("192.0.2.10", "Firefox/120")


def test_the_mails_records_are_kept_as_long_as_they_serve(app, runner):
    post = add_comment(app)  # a response, for the subscriptions' post
    with app.app_context():
        post_id = db.session.get(Comment, post).post_id
        days = lambda n: NOW - timedelta(days=n)  # noqa: E731
        db.session.add_all(
            [
                # Never confirmed: its link has expired after seven days.
                Subscription(
                    email="a@example.org", post_id=post_id, created_at=days(8)
                ),
                Subscription(
                    email="b@example.org", post_id=post_id, created_at=days(6)
                ),
                Subscription(
                    email="c@example.org",
                    post_id=post_id,
                    created_at=days(400),
                    confirmed_at=days(399),
                ),
                # Sent a month ago or more; still to send, however old.
                OutboxMessage(kind="prova", status="sent", created_at=days(31)),
                OutboxMessage(kind="prova", status="failed", created_at=days(31)),
                OutboxMessage(kind="prova", status="sent", created_at=days(29)),
                OutboxMessage(kind="prova", status="queued", created_at=days(31)),
                # Who was told of a response deleted since: nobody asks.
                OutboxMessage(
                    kind="notice",
                    ref_id=99999,
                    recipient="gone@example.org",
                    status="sent",
                    created_at=days(400),
                ),
                # Who was told of a response: read again if it is approved again.
                OutboxMessage(
                    kind="notice",
                    ref_id=post,
                    recipient="b@example.org",
                    status="sent",
                    created_at=days(400),
                ),
                # A spent link matters while an unspent one could be valid.
                UsedToken(digest="a" * 64, used_at=days(8)),
                UsedToken(digest="b" * 64, used_at=days(6)),
            ]
        )
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Registrazioni email scadute eliminate: 5" in result.output
    with app.app_context():
        emails = db.session.scalars(select(Subscription.email).order_by("email"))
        assert list(emails) == ["b@example.org", "c@example.org"]
        kept = db.session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.kind == "prova")
        )
        assert sorted(kept) == ["queued", "sent"]
        told = select(OutboxMessage.recipient).where(OutboxMessage.kind == "notice")
        assert db.session.scalars(told).all() == ["b@example.org"]
        assert db.session.scalars(select(UsedToken.digest)).all() == ["b" * 64]


def test_a_sent_mail_is_forgotten_only_once_more_than_30_days_old(app):
    with app.app_context():
        db.session.add_all(
            OutboxMessage(kind="prova", status="sent", recipient=name, created_at=at)
            for name, at in (
                ("just@example.org", NOW - SENT_KEPT),
                ("past@example.org", NOW - SENT_KEPT - timedelta(seconds=1)),
            )
        )
        db.session.commit()
        assert forget_sent(NOW) == 1
        left = db.session.scalars(select(OutboxMessage.recipient)).all()
        assert left == ["just@example.org"]


def left_in(app, status: str, days: float, **values) -> int:
    """A response moved to ``status`` ``days`` ago."""
    comment_id = add_comment(app, status=status, **values)
    with app.app_context():
        db.session.execute(
            db.update(Comment)
            .where(Comment.id == comment_id)
            .values(updated_at=NOW - timedelta(days=days))
        )
        db.session.commit()
    return comment_id


def statuses(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(Comment.id, Comment.status)).all())


def test_spam_and_trash_are_deleted_after_their_days(app):
    gone = [left_in(app, "trash", 30.01), left_in(app, "spam", 31)]
    kept = [
        left_in(app, "trash", 29.99),
        left_in(app, "pending", 400),
        left_in(app, "approved", 400),
    ]
    with app.app_context():
        assert purge_trash(NOW, 30) == 2
        assert purge_trash(NOW, 30) == 0
    left = statuses(app)
    assert not set(gone) & set(left)
    assert [left[i] for i in kept] == ["trash", "pending", "approved"]


def test_zero_days_keeps_spam_and_trash(app):
    old = left_in(app, "trash", 3650)
    with app.app_context():
        assert purge_trash(NOW, 0) == 0
    assert statuses(app)[old] == "trash"


def test_clearing_an_address_does_not_restart_the_trash_count(app):
    # Written 90 days ago, deleted by its writer 40 days ago: the IP purge
    # that clears it now is no new reason to keep it.
    old = left_in(app, "trash", 40, created_at=NOW - timedelta(days=90))
    with app.app_context():
        assert purge_ips(NOW, 60) == 1
        assert purge_trash(NOW, 30) == 1
    assert old not in statuses(app)


def test_a_reply_to_a_deleted_comment_stays_on_the_page(app):
    parent = left_in(app, "trash", 45)
    reply = add_comment(app, status="approved", parent_id=parent, depth=2)
    with app.app_context():
        db.session.execute(
            db.update(Comment).where(Comment.id == reply).values(thread_id=parent)
        )
        db.session.commit()
        version = content_version()
        purge_trash(NOW, 30)
        kept = db.session.get(Comment, reply)
        assert (kept.status, kept.parent_id, kept.depth) == ("approved", None, 1)
    with app.app_context():
        assert content_version() != version  # the reply moved up a level


@pytest.mark.app_config(COMMENT_TRASH_DAYS=7)
def test_the_background_job_empties_by_the_setting(app):
    week_and_a_day, six_days = left_in(app, "spam", 8), left_in(app, "spam", 6)
    with app.app_context():
        purge_expired()
    left = statuses(app)
    assert six_days in left and week_and_a_day not in left


def test_the_cli_empties_spam_and_trash_too(app, runner):
    old, recent = left_in(app, "trash", 31), left_in(app, "trash", 1)
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Risposte eliminate da spam e cestino: 1\n" in result.output
    left = statuses(app)
    assert recent in left and old not in left


def test_webmention_senders_addresses_go_with_the_retention(app):
    def request(name: str, days: float, status: str) -> WebmentionRequest:
        return WebmentionRequest(
            id=name,
            source=f"http://example.org/{name}",
            target="http://127.0.0.1/",
            status=status,
            requester_ip="198.51.100.7",
            created_at=NOW - timedelta(days=days),
        )

    with app.app_context():
        db.session.add_all(
            [
                request("verified", 61, "accepted"),
                request("stuck", 61, "queued"),
                request("recent", 59, "accepted"),
            ]
        )
        db.session.commit()
        purge_ips(NOW, 60)
        rows = db.session.execute(
            select(WebmentionRequest.id, WebmentionRequest.requester_ip)
        ).all()
    assert sorted(rows) == [("recent", "198.51.100.7"), ("stuck", "")]


def test_a_pings_spam_verdict_stays(app):
    # Deleted, the source could send it again and be judged anew.
    ping = left_in(app, "spam", 400, type="webmention", source_url="http://x.example/")
    with app.app_context():
        assert purge_trash(NOW, 30) == 0
    assert statuses(app)[ping] == "spam"


def test_a_reply_in_the_trash_under_a_parent_in_the_trash_goes_with_it(app):
    parent = left_in(app, "trash", 45)
    reply = add_comment(app, status="trash", parent_id=parent, depth=2)
    with app.app_context():
        db.session.execute(
            db.update(Comment)
            .where(Comment.id == reply)
            .values(thread_id=parent, updated_at=NOW - timedelta(days=45))
        )
        db.session.commit()
        assert purge_trash(NOW, 30) == 2
    left = statuses(app)
    assert parent not in left and reply not in left


def test_imported_spam_is_kept_its_days_from_the_import(app):
    with app.app_context():
        post = db.session.get(Comment, add_comment(app)).post
        old = NewResponse(
            content="compra ora",
            author_name="Robot",
            created_at=NOW - timedelta(days=4000),
            status="spam",
        )
        spam_id = add_response(post, old).id
        assert purge_trash(utcnow(), 30) == 0
    assert statuses(app)[spam_id] == "spam"
