"""The outbox: mail stored as rows in the sender's transaction, sent later.

A row names a kind and the id it is about; the feature that registered the
kind renders it when the row is sent, so the request that stores it pays for
one INSERT and nothing else, and the renderer sees the state of that moment (a
response approved and then withdrawn before the worker ran is not announced).
A renderer may return no message (nothing to say any more) or add rows of its
own (one per subscriber). A failure is retried with a growing delay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from ..core.jobs import submit
from ..extensions import db
from ..models import OutboxMessage, utcnow
from .message import deliver

Renderer = Callable[[OutboxMessage], Iterable[EmailMessage]]

MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(hours=12)
# A row being sent is held this long; after that a worker that died lets go.
CLAIM = timedelta(minutes=10)
WAITING = ("queued", "sending")

_RENDERERS: dict[str, Renderer] = {}
_WAKE = "mail_outbox_wake"  # session.info key: the commit has put mail in


def register(kind: str, renderer: Renderer) -> None:
    """Let ``renderer`` make the messages of the rows of ``kind``."""
    _RENDERERS[kind] = renderer


def enqueue(kind: str, ref_id: int | None = None, recipient: str = "") -> None:
    """Add a row to the outbox (the caller commits)."""
    db.session.add(OutboxMessage(kind=kind, ref_id=ref_id, recipient=recipient))
    db.session.info[_WAKE] = True


def enqueue_in_flush(session: Session, rows: list[tuple[str, int]]) -> None:
    """From a flush listener: the (kind, ref_id) rows, in one INSERT of the
    flush's own transaction (the unit of work cannot take new objects then)."""
    if not rows:
        return
    session.connection().execute(
        OutboxMessage.__table__.insert(),
        [{"kind": kind, "ref_id": ref_id, "recipient": ""} for kind, ref_id in rows],
    )
    session.info[_WAKE] = True


def delay_after(attempts: int) -> timedelta:
    """How long a message that failed ``attempts`` times waits: doubling."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)


def _next_due(moment: datetime) -> int | None:
    return db.session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(WAITING))
        .where(OutboxMessage.next_attempt_at <= moment)
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def _claim(row_id: int, moment: datetime) -> bool:
    # A conditional UPDATE: of two workers after the same row, one wins.
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .where(OutboxMessage.status.in_(WAITING))
        .where(OutboxMessage.next_attempt_at <= moment)
        .values(status="sending", next_attempt_at=moment + CLAIM),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount == 1


def _send(row_id: int, moment: datetime) -> int:
    row = db.session.get(OutboxMessage, row_id)
    try:
        renderer = _RENDERERS.get(row.kind)
        if renderer is None:
            raise LookupError(f"nessun modello per i messaggi «{row.kind}»")
        messages = list(renderer(row))
        for message in messages:
            deliver(message)
    except Exception as error:  # noqa: BLE001  any failure is retried later
        db.session.rollback()
        current_app.logger.exception("Email %s (%s) non inviata", row_id, row.kind)
        _failed(row_id, moment, error)
        return 0
    row.attempts += 1
    row.status = "sent" if messages else "done"
    row.sent_at = utcnow()
    db.session.commit()
    return len(messages)


def _failed(row_id: int, moment: datetime, error: Exception) -> None:
    row = db.session.get(OutboxMessage, row_id)
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.status = "queued"
        row.next_attempt_at = moment + delay_after(row.attempts)
    db.session.commit()


def send_due(now: datetime | None = None, limit: int = 500) -> int:
    """Send the rows due by ``now`` (and those their renderers add); how many
    messages went out."""
    sent = 0
    for _ in range(limit):
        moment = now or utcnow()
        row_id = _next_due(moment)
        if row_id is None:
            break
        if _claim(row_id, moment):
            sent += _send(row_id, moment)
    return sent


def _wake(session: Session) -> None:
    if session.info.pop(_WAKE, False):
        submit(send_due)


def _forget(session: Session) -> None:
    session.info.pop(_WAKE, None)


def init_app(app: Flask) -> None:
    """Send the outbox in the background after each commit that fills it."""
    if event.contains(db.session, "after_commit", _wake):
        return  # the scoped session is shared by every app of the process
    event.listen(db.session, "after_commit", _wake)
    event.listen(db.session, "after_rollback", _forget)
