"""Background work for mentions: jobs are database rows, run by ``core.jobs``.

A queued ``WebmentionRequest`` or a pending ``OutboundPing`` is the job; the
pool of each worker process only speeds things up. Whatever it misses (a
restart, ``BACKGROUND_WORKER = "off"``) ``flask process-mentions`` drains.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ..extensions import db
from ..models import OutboundPing, WebmentionRequest, utcnow
from .send import posts_with_pending_pings, send_pending
from .webmention import process_webmention, queued_requests

# A job claimed this long ago and not finished belongs to a worker that died.
STALE_AFTER = timedelta(minutes=10)


def drain() -> int:
    """Run every queued job now, in this thread; how many were run."""
    # Claimed long ago and never finished: the worker died; queue them again.
    since = utcnow() - STALE_AFTER
    for model, claimed, waiting, claimed_at in (
        (WebmentionRequest, "processing", "queued", WebmentionRequest.updated_at),
        (OutboundPing, "sending", "pending", OutboundPing.attempted_at),
    ):
        db.session.execute(
            update(model)
            .where(model.status == claimed, claimed_at < since)
            .values(status=waiting)
        )
    db.session.commit()
    count = 0
    for request_id in queued_requests():
        count += process_webmention(request_id) is not None
    for post_id in posts_with_pending_pings():
        count += send_pending(post_id)
    return count
