"""Commenters' IP addresses and browsers are kept ``COMMENT_IP_RETENTION_DAYS``."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from ..comments.personal_data import purge_addresses
from ..core import jobs
from ..core.settings import current_settings
from ..extensions import db
from ..models import utcnow

# The background worker clears expired addresses at most this often per
# process, starting with the first request after it starts.
PURGE_EVERY = 3600.0
_next_purge = [0.0]
_schedule_lock = threading.Lock()


def purge_ips(now: datetime, days: int) -> int:
    """Clear addresses and browsers older than ``days`` (0 keeps them), and
    commit; how many comments. The flood rule only looks back seconds, and the
    duplicate rule not at addresses at all, so both keep working."""
    cleared = purge_addresses(now, days)
    db.session.commit()
    return cleared


def purge_expired_ips() -> int:
    """The background job: clear what the retention setting says is expired."""
    return purge_ips(utcnow(), current_settings().ip_retention_days)


def schedule_purge() -> None:
    """Before a request: hand the purge to the background worker once an hour."""
    now = time.monotonic()
    if now < _next_purge[0]:
        return
    with _schedule_lock:
        if now < _next_purge[0]:
            return
        _next_purge[0] = now + PURGE_EVERY
    jobs.submit(purge_expired_ips)
