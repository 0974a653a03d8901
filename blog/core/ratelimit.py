"""Windowed rate limits counted in the database, so every worker sees them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import RateEvent, utcnow


def count_recent(
    bucket: str, key: str, window: timedelta, now: datetime | None = None
) -> int:
    """Events for (bucket, key) within the last ``window``."""
    since = (now or utcnow()) - window
    return db.session.scalar(
        select(func.count()).where(
            RateEvent.bucket == bucket,
            RateEvent.key == key,
            RateEvent.created_at > since,
        )
    )


def record(bucket: str, key: str, now: datetime | None = None) -> RateEvent:
    """Count one event (caller commits); the event is returned for ``withdraw``."""
    event = RateEvent(bucket=bucket, key=key[:300], created_at=now or utcnow())
    db.session.add(event)
    return event


def withdraw(event_ids: list[int]) -> None:
    """Uncount events recorded for something that was then refused."""
    db.session.execute(delete(RateEvent).where(RateEvent.id.in_(event_ids)))


def hit(bucket: str, key: str, limit: int, window: timedelta) -> bool:
    """Record an event and say whether (bucket, key) is now over ``limit``."""
    over = count_recent(bucket, key, window) >= limit
    if not over:
        record(bucket, key)
    return over


def clear(bucket: str, key: str) -> None:
    """Forget the events of (bucket, key), e.g. after a successful sign-in."""
    db.session.execute(
        delete(RateEvent).where(RateEvent.bucket == bucket, RateEvent.key == key)
    )


def prune(older_than: timedelta) -> None:
    """Drop events too old to matter for any window."""
    db.session.execute(
        delete(RateEvent).where(RateEvent.created_at < utcnow() - older_than)
    )
