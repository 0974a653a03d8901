"""The blog's own time zone (``TIMEZONE``, Europe/Rome by default).

Every stored time is naive UTC. Pages, the admin and the WordPress export show
times as the blog's readers live them, and the post editor takes the time the
author types in the same zone, as WordPress does with its timezone setting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app

from ..models import utcnow

# The zone pages show times in when none is configured (blog/config.py).
DEFAULT_TIMEZONE = "Europe/Rome"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def blog_zone() -> ZoneInfo:
    """The zone of TIMEZONE (checked at start-up by ``check_config``)."""
    return _zone(current_app.config["TIMEZONE"])


def local_time(value: datetime) -> datetime:
    """Naive UTC -> the blog's wall-clock time (naive). At the very ends of the
    calendar (year 1, year 9999), where the shift would leave it, the time is
    kept as it is: an imported or typed date there must not break a page."""
    try:
        return value.replace(tzinfo=UTC).astimezone(blog_zone()).replace(tzinfo=None)
    except OverflowError:
        return value


def utc_time(value: datetime) -> datetime:
    """The blog's wall-clock time (naive) -> naive UTC. A time the clocks skip
    or repeat at a change of hour is read as before the change; at the ends of
    the calendar, kept as it is (``local_time``)."""
    try:
        return value.replace(tzinfo=blog_zone()).astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return value


# Two machines' clocks a few minutes apart are no schedule.
CLOCKS_AHEAD = timedelta(minutes=5)


def dated_ahead(moment: datetime | None) -> bool:
    """Whether ``moment`` (naive UTC) is ahead of now by more than clocks
    differ: a post so dated would head the home page and the feeds until
    then, and this blog schedules nothing."""
    return moment is not None and moment > utcnow() + CLOCKS_AHEAD
