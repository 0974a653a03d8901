"""The outbox: mail stored as rows in the sender's transaction, sent later.

A row names a kind and the id it is about; the feature that registered the
kind renders it when the row is sent, so the request that stores it pays for
one INSERT and nothing else, and the renderer sees the state of that moment (a
response approved and then withdrawn before the worker ran is not announced).
A renderer may return no message (nothing to say any more) or add rows of its
own (one per subscriber). A kind registered with a batch size is rendered a
batch of due rows at a time (the author's held notices: one digest, not a mail
per response, when a burst arrives). A failure is retried with a growing delay;
a renderer that cannot send yet raises ``Postponed``.
"""

from __future__ import annotations

import os
import re
import smtplib
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app
from sqlalchemy import String, delete, event, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from ..core.jobs import submit, submit_later, worker_mode
from ..extensions import db
from ..models import OutboxMessage, utcnow
from .message import deliver

# One row, or for a kind registered with ``batch`` > 1 a list of rows.
Renderer = Callable[..., Iterable[EmailMessage]]
# The least time between two mails of a kind, as it stands when asked.
Spacing = Callable[[], timedelta]

# 1, 2, 4 … 512 minutes apart, then 12 hours: a relay down for a day loses
# nothing (8 attempts gave up after about two hours).
MAX_ATTEMPTS = 12
FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(hours=12)
# A row being sent is held this long; after that a worker that died lets go.
CLAIM = timedelta(minutes=10)
WAITING = ("queued", "sending")


class Postponed(Exception):
    """Raised by a renderer whose row cannot go yet (a limit of the recipient's
    that frees later): the row waits until ``until``, no attempt is counted,
    and what the renderer stored meanwhile is kept."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


_RENDERERS: dict[str, tuple[Renderer, int]] = {}
# Run first by each send_due: they turn the marks a feature left on its own
# rows into outbox rows (and commit), for writes that must stay one INSERT.
_FEEDERS: list[Callable[[], object]] = []
_SPACINGS: dict[str, Spacing] = {}
# Kinds whose sent rows are a record the sender reads again (``forget_sent``).
_KEPT_KINDS: set[str] = set()
_WAKE = "mail_outbox_wake"  # session.info key: the commit has put mail in
# Processes with a send_due job queued and not started: one is enough.
_scheduled: set[int] = set()
_scheduled_lock = threading.Lock()
# Per process: when the run already set for a spaced kind's held rows starts.
_later: dict[int, datetime] = {}


def register(
    kind: str,
    renderer: Renderer,
    batch: int = 1,
    kept: bool = False,
    spacing: Spacing | None = None,
) -> None:
    """Let ``renderer`` make the messages of the rows of ``kind``: one row at a
    time, or with ``batch`` > 1 a list of up to that many due rows. ``kept``:
    the rows, once sent, are the record of who was told, never forgotten.
    ``spacing``: the rows due within that time of the kind's last mail wait
    for its end, and go out together."""
    _RENDERERS[kind] = (renderer, batch)
    if kept:
        _KEPT_KINDS.add(kind)
    if spacing is not None:
        _SPACINGS[kind] = spacing


def register_feeder(feeder: Callable[[], object]) -> None:
    """Let ``feeder`` add its rows (and commit) before each run sends."""
    if feeder not in _FEEDERS:
        _FEEDERS.append(feeder)


def wake_after_commit(session: Session) -> None:
    """Have the worker run after ``session``'s commit: a feeder has work."""
    session.info[_WAKE] = True


def enqueue(kind: str, ref_id: int | None = None, recipient: str = "") -> None:
    """Add a row to the outbox (the caller commits)."""
    db.session.add(OutboxMessage(kind=kind, ref_id=ref_id, recipient=recipient))
    wake_after_commit(db.session)


_INSERT_ROWS = OutboxMessage.__table__.insert()


def enqueue_in_flush(session: Session, rows: list[tuple[str, int]]) -> None:
    """From a listener: the (kind, ref_id) rows, in one INSERT of the session's
    own transaction (a flush in progress cannot take new objects)."""
    if rows:
        now = utcnow()
        session.connection().execute(
            _INSERT_ROWS,
            [
                {
                    "kind": kind,
                    "ref_id": ref_id,
                    "recipient": "",
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for kind, ref_id in rows
            ],
        )
        wake_after_commit(session)


def enqueue_selected(session: Session, kind: str, rows: Select) -> int:
    """From a feeder, already in the worker's run: a ``kind`` row for each row
    of ``rows`` (the id it is about, due since when), in one INSERT ... SELECT
    (the caller commits); how many. The database copies the rows: a wave's
    thousand held comments cost the worker one statement, not a thousand
    rows read and written back."""
    columns = OutboxMessage.__table__.c
    ref_id, since = rows.subquery().c
    copied = select(literal(kind, String), ref_id, since, since).order_by(ref_id)
    result = session.connection().execute(
        insert(OutboxMessage.__table__).from_select(
            [columns.kind, columns.ref_id, columns.created_at, columns.next_attempt_at],
            copied,
        ),
        # SQLAlchemy keeps the row count of an UPDATE or DELETE only; psycopg
        # gives -1 for an INSERT's unless asked to keep it.
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount


# A message sent (or given up) is kept this long: the privacy export lists it,
# then nobody needs to know an address was mailed.
SENT_KEPT = timedelta(days=30)


def forget_sent(now: datetime) -> int:
    """Delete the rows sent, made redundant or given up more than
    ``SENT_KEPT`` ago (the caller commits), but those of kept kinds; how many."""
    result = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.not_in(WAITING),
            OutboxMessage.created_at < now - SENT_KEPT,
            OutboxMessage.kind.not_in(sorted(_KEPT_KINDS)),
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def delay_after(attempts: int) -> timedelta:
    """How long a message that failed ``attempts`` times waits: doubling."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)


def _next_due(moment: datetime, sent_kinds: set[str]) -> tuple[int, str] | None:
    # The longest due, one status at a time: each look-up walks the index
    # (status, next_attempt_at) in its order and stops at the first row, where
    # both statuses at once sorted every due row for each message sent (a
    # fan-out to S subscribers sorted S rows S times).
    found = []
    for status in WAITING:
        statement = (
            select(OutboxMessage.next_attempt_at, OutboxMessage.id, OutboxMessage.kind)
            .where(OutboxMessage.status == status)
            .where(OutboxMessage.next_attempt_at <= moment)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        )
        if sent_kinds:
            statement = statement.where(OutboxMessage.kind.not_in(sent_kinds))
        row = db.session.execute(statement).first()
        if row is not None:
            found.append(tuple(row))
    if not found:
        return None
    _, row_id, kind = min(found)
    return row_id, kind


def _claim(row_id: int, kind: str, batch: int, moment: datetime) -> list[int]:
    """Take ``row_id`` (and, for a batch, the next due rows of its kind) for
    this worker: a conditional UPDATE, so of two workers one wins each row."""
    due = (OutboxMessage.status.in_(WAITING), OutboxMessage.next_attempt_at <= moment)
    chosen = (
        OutboxMessage.id == row_id
        if batch == 1
        else OutboxMessage.id.in_(
            select(OutboxMessage.id)
            .where(OutboxMessage.kind == kind, *due)
            .order_by(OutboxMessage.id)
            .limit(batch)
        )
    )
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(chosen, *due)
        .values(status="sending", next_attempt_at=moment + CLAIM)
        .returning(OutboxMessage.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()
    return sorted(claimed)


def _send(row_ids: list[int], kind: str, moment: datetime) -> int:
    # One query for the batch (a digest claims up to HELD_BATCH rows at once).
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids))
        .order_by(OutboxMessage.id)
    ).all()
    if not rows:
        return 0  # erased since the claim (a reader's data, say): nothing to send
    try:
        renderer, batch = _RENDERERS.get(kind, (None, 1))
        if renderer is None:
            raise LookupError(f"nessun modello per i messaggi «{kind}»")
        messages = list(renderer(rows) if batch > 1 else renderer(rows[0]))
        for message in messages:
            deliver(message)
    except Postponed as later:
        _requeue(row_ids, later.until)
        return 0
    except Exception as error:  # noqa: BLE001  any failure is retried later
        db.session.rollback()
        final = cannot_be_delivered(error)
        if final:  # the relay's answer says it all: one line, no traceback
            current_app.logger.warning(
                "Email %s (%s) non recapitabile: %s", row_ids, kind, error
            )
        else:
            current_app.logger.exception("Email %s (%s) non inviata", row_ids, kind)
        _failed(row_ids, moment, error, final)
        return 0
    # One statement for the batch (a digest may stand for hundreds of rows).
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([row.id for row in rows]))
        .values(
            attempts=OutboxMessage.attempts + 1,
            status="sent" if messages else "done",
            sent_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return len(messages)


def _requeue(row_ids: list[int], until: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids))
        .values(status="queued", next_attempt_at=until),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()


def cannot_be_delivered(error: Exception) -> bool:
    """Whether trying ``error``'s mail again is bound to fail the same way: the
    relay cannot carry the address (a non-ASCII name, without SMTPUTF8) or
    says every recipient's address is bad (no such mailbox, a bad name).
    Twelve tries over a day would only fill the log. A relay's own setting
    (no STARTTLS, no AUTH, relaying denied: 5.7.x) is the operator's to mend,
    and the mail waits for it."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "SMTPUTF8" in str(error)
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return all(
            code >= 500 and _BAD_MAILBOX.match(answer) is not None
            for code, answer in error.recipients.values()
        )
    return False


# RFC 3463's codes for a recipient's address that cannot work: no such mailbox
# (5.1.1), system (5.1.2) or syntax (5.1.3), a moved mailbox (5.1.6), a null
# MX (5.1.10). Not 5.1.7 and 5.1.8, which are about our sender: the setting
# is the operator's to mend, as a relay's 5.7.x.
_BAD_MAILBOX = re.compile(rb"5\.1\.(?:1|2|3|6|10)\b")


def _failed(
    row_ids: list[int], moment: datetime, error: Exception, final: bool = False
) -> None:
    # The batch's rows in one query and one commit, each with its own count
    # of attempts (a row may have joined the batch after failing alone).
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(row_ids))
    ).all()  # rows erased meanwhile are simply not there
    reason = f"{type(error).__name__}: {error}"[:2000]
    for row in rows:
        row.attempts += 1
        row.last_error = reason
        if final or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.status = "queued"
            row.next_attempt_at = moment + delay_after(row.attempts)
    db.session.commit()


def send_due(now: datetime | None = None, limit: int = 500) -> int:
    """Send the rows due by ``now`` (and those their renderers add); how many
    messages went out. The registered feeders add their rows first (the held
    comments' marks); one that fails is logged and the rest still goes.

    A batched kind makes one mail per run unless its batch came full: rows
    that commits add while the run renders wait for the next run (the job
    those commits schedule, or the next ``flask send-mail``). Otherwise, under
    a steady wave of held comments, every worker's thread would render digest
    after digest of a few rows each, taking the CPU from the requests and
    filling the author's inbox. A kind registered with a spacing (the same
    digest) also waits that long after its last mail.
    """
    for feeder in _FEEDERS:
        try:
            feeder()
        except Exception:  # noqa: BLE001  the rows already queued still go
            db.session.rollback()
            current_app.logger.exception("Email: %s non riuscito", feeder.__name__)
    sent, sent_kinds, backlog = 0, set(), set()
    for _ in range(limit):
        moment = now or utcnow()
        due = _next_due(moment, sent_kinds)
        if due is None:
            break
        row_id, kind = due
        # A batch that came full in this run is a backlog: it goes on at once.
        held_until = None if kind in backlog else _spaced_until(kind, moment)
        if held_until is not None:
            sent_kinds.add(kind)
            _send_later(held_until, moment)
            continue
        batch = _RENDERERS.get(kind, (None, 1))[1]
        claimed = _claim(row_id, kind, batch, moment)
        if claimed:
            sent += _send(claimed, kind, moment)
        if batch > 1 and len(claimed) < batch:
            sent_kinds.add(kind)
        elif batch > 1:
            backlog.add(kind)
    return sent


def _spaced_until(kind: str, moment: datetime) -> datetime | None:
    """When the rows of ``kind`` may go, if its last mail was too recent."""
    spacing = _SPACINGS.get(kind)
    gap = spacing() if spacing is not None else timedelta(0)
    if gap <= timedelta(0):
        return None
    # The last one sent, from the end of the (kind, status, sent_at) index,
    # and the one another run is sending now, whose claim ends CLAIM after
    # it started: either is the time to wait from.
    last = db.session.scalar(
        select(OutboxMessage.sent_at)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.status == "sent",
            # A time ahead of now was stamped by a clock that was ahead (or set
            # back since): waiting for it could hold the notices for days.
            OutboxMessage.sent_at <= moment,
        )
        .order_by(OutboxMessage.sent_at.desc())
        .limit(1)
    )
    claimed = db.session.scalar(
        select(func.max(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == "sending",
            OutboxMessage.next_attempt_at > moment,
            OutboxMessage.kind == kind,
        )
    )
    # A claim stamped ahead (another machine's clock) is left out the same way.
    started = [
        when for when in (last, claimed and claimed - CLAIM) if when and when <= moment
    ]
    if not started or max(started) + gap <= moment:
        return None
    return max(started) + gap


def _send_later(when: datetime, moment: datetime) -> None:
    # One run per process for the rows held back; ``flask send-mail`` from cron
    # sends them if this process ends first.
    if worker_mode(current_app) != "thread":
        return
    with _scheduled_lock:
        planned = _later.get(os.getpid())
        if planned is not None and moment < planned <= when:
            return
        _later[os.getpid()] = when
    submit_later((when - moment).total_seconds(), _send_planned, when)


def _send_planned(when: datetime) -> int:
    with _scheduled_lock:
        if _later.get(os.getpid()) == when:
            del _later[os.getpid()]
    return send_due()


def _send_scheduled(gather: float) -> int:
    # Commits during the wait add their rows to this job instead of queueing
    # jobs of their own: a burst of held responses becomes one digest.
    time.sleep(gather)
    with _scheduled_lock:
        _scheduled.discard(os.getpid())
    return send_due()


def _wake(session: Session) -> None:
    if not session.info.pop(_WAKE, False):
        return
    if worker_mode(current_app) != "thread":
        return
    # A burst of comments queues one job, not one per commit: the job sends
    # every row due when it runs, those of the commits before it included.
    with _scheduled_lock:
        if os.getpid() in _scheduled:
            return
        _scheduled.add(os.getpid())
    submit(_send_scheduled, float(current_app.config.get("MAIL_GATHER_SECONDS") or 0))


def _forget(session: Session) -> None:
    session.info.pop(_WAKE, None)


def init_app(app: Flask) -> None:
    """Send the outbox in the background after each commit that fills it."""
    if event.contains(db.session, "after_commit", _wake):
        return  # the scoped session is shared by every app of the process
    event.listen(db.session, "after_commit", _wake)
    event.listen(db.session, "after_rollback", _forget)
