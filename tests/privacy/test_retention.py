"""Commenters' IP addresses and browsers are cleared after a while (#14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_admin import add_comment
from helpers_comments import send_comment
from sqlalchemy import select

from blog.core.settings import content_version, responses_version
from blog.extensions import db
from blog.models import Comment, OutboxMessage, Subscription, UsedToken, utcnow
from blog.privacy.retention import purge_ips

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


def test_the_purge_leaves_the_readers_cached_pages_alone(app):
    # Readers are shown neither the address nor the browser; the purge runs at
    # each worker's first request, then hourly, and must not make every worker
    # render its pages again. The queue, which shows addresses, sees it.
    old = aged(app, 90, status="approved")
    with app.app_context():
        content, responses = content_version(), responses_version()
    with app.app_context():
        assert purge_ips(NOW, 60) == 1
    with app.app_context():
        assert content_version() == content
        assert responses_version() != responses
    assert sender_traces(app, old) == ("", "")


@pytest.mark.app_config(COMMENT_IP_RETENTION_DAYS=30)
def test_the_cli_uses_the_setting_or_days(app, runner):
    month_and_a_half, week = aged(app, 45), aged(app, 7)
    result = runner.invoke(args=["purge-ips"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Commenti ripuliti: 1\n")
    assert sender_traces(app, month_and_a_half) == ("", "")
    again = runner.invoke(args=["purge-ips", "--days", "5"])
    assert again.output.startswith("Commenti ripuliti: 1\n")
    assert sender_traces(app, week) == ("", "")


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
    assert send_comment(client, app, "Primo").status_code == 409  # duplicate


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
    result = runner.invoke(args=["purge-ips"])
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
