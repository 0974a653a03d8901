"""Commenters' IP addresses and browsers are kept ``COMMENT_IP_RETENTION_DAYS``."""

from __future__ import annotations

from datetime import datetime

from ..comments.personal_data import purge_addresses
from ..extensions import db


def purge_ips(now: datetime, days: int) -> int:
    """Clear addresses and browsers older than ``days`` (0 keeps them), and
    commit; how many comments. The flood rule only looks back seconds, and the
    duplicate rule not at addresses at all, so both keep working."""
    cleared = purge_addresses(now, days)
    db.session.commit()
    return cleared
