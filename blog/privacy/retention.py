"""Commenters' IP addresses and browsers are kept ``COMMENT_IP_RETENTION_DAYS``,
spam and the trash ``COMMENT_TRASH_DAYS``; the mail's records (unconfirmed
subscriptions, sent mail, spent links) as long as they serve."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from ..comments.mails import forget_told_of_deleted
from ..comments.mailtokens import forget_spent
from ..comments.operations import empty_expired
from ..comments.personal_data import purge_addresses
from ..comments.subscriptions import forget_unconfirmed
from ..core import jobs
from ..core.settings import current_settings
from ..extensions import db
from ..mail.outbox import forget_sent
from ..mentions.webmention import forget_requesters
from ..models import utcnow

# The background worker clears expired addresses at most this often per
# process, starting with the first request after it starts.
PURGE_EVERY = 3600.0
_next_purge = [0.0]
_schedule_lock = threading.Lock()


def purge_ips(now: datetime, days: int) -> int:
    """Clear addresses and browsers older than ``days`` (0 keeps them), with
    the webmention requests that carried them, and commit; how many comments
    were cleared. The
    flood rule only looks back seconds, and the duplicate rule not at
    addresses at all, so both keep working."""
    if days <= 0:
        return 0
    cleared = purge_addresses(now, days)
    forget_requesters(now - timedelta(days=days))
    db.session.commit()
    return cleared


def purge_trash(now: datetime, days: int) -> int:
    """Delete spam and trash older than ``days`` (0 keeps them), and commit;
    how many responses."""
    deleted = empty_expired(now, days)
    db.session.commit()
    return deleted


def purge_mail_records(now: datetime) -> int:
    """Delete subscriptions never confirmed in time, mail sent over a month
    ago (but who was told of a response that is still there), links spent
    over a week ago, and commit; how many rows."""
    forgotten = forget_unconfirmed(now) + forget_sent(now) + forget_spent(now)
    forgotten += forget_told_of_deleted()
    db.session.commit()
    return forgotten


def purge_expired() -> int:
    """The background job: clear what the retention rules say is expired."""
    now, settings = utcnow(), current_settings()
    return (
        purge_ips(now, settings.ip_retention_days)
        + purge_trash(now, settings.trash_days)
        + purge_mail_records(now)
    )


def schedule_purge() -> None:
    """Before a request: hand the purge to the background worker once an hour."""
    now = time.monotonic()
    if now < _next_purge[0]:
        return
    with _schedule_lock:
        if now < _next_purge[0]:
            return
        _next_purge[0] = now + PURGE_EVERY
    jobs.submit(purge_expired)
