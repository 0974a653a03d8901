"""The content version: a new random value stored with every commit that changes
a page a reader is shown.

Every commit that changes a post, a published response, a category, an author,
an old address or a setting stores a new random ``content_version`` (in the
``setting`` table); the cached pages (``cache``) are keyed by it. A held or
spam response changes no reader's page and moves only ``responses_version``,
which the author's queue counts are kept by, with the latest response's id: on
SQLite a new response moves that id, so storing one writes no version unless
readers see it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, event, inspect, update
from sqlalchemy.orm import Session

from ..core.settings import (
    CONTENT_VERSION_KEY,
    RESPONSES_VERSION_KEY,
    UNSEEN_BY_READERS,
    VERSION_KEYS,
    forget_read_settings,
)
from ..core.signals import response_inserted
from ..database import insert_or_ignore
from ..models import Author, Category, Comment, OldPath, Post, Setting, Tag

# An old address moves readers to a post (301) where it was a 404: a kept 404
# must not outlive the author's edit of the old addresses.
_TRACKED = (Post, Comment, Category, Author, Tag, OldPath)


def _shown_to_readers(obj: object) -> bool:
    # Readers see approved responses only; a writer sees their own held one on
    # pages that are never cached. A status whose old value was never loaded
    # (set on an expired object, or not loaded at all) counts as shown.
    if not isinstance(obj, Comment):
        return True
    state = inspect(obj)
    if "status" in state.unloaded:
        return True
    history = state.attrs.status.history
    if state.persistent and history.added and not history.deleted:
        return True  # the status it had before is not known here
    return "approved" in (*history.added, *history.deleted, *history.unchanged)


def _mark_if_tracked(session: Session, flush_context, instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Comment):
            session.info["responses_changed"] = True
        # Any response deleted counts: its approved replies move up in its
        # place (parent_id is set to NULL), whatever its own status was.
        deleted = isinstance(obj, Comment) and obj in session.deleted
        if (isinstance(obj, _TRACKED) and (deleted or _shown_to_readers(obj))) or (
            isinstance(obj, Setting) and obj.key not in VERSION_KEYS
        ):
            session.info["content_changed"] = True


def _mark_bulk_statements(orm_execute_state) -> None:
    state = orm_execute_state
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = orm_execute_state.bind_mapper
    if mapper is not None and mapper.class_ in (*_TRACKED, Setting):
        # Which rows a bulk statement reaches is not known here: both move,
        # unless the statement says it writes nothing a reader is shown.
        session_info = orm_execute_state.session.info
        session_info["responses_changed"] = True
        if not orm_execute_state.execution_options.get(UNSEEN_BY_READERS):
            session_info["content_changed"] = True


def _mark_inserted_response(session: Session, response: Comment) -> None:
    # A response stored outside the unit of work (``response_inserted``). On
    # SQLite its new id is news enough for the queue, whose counts are kept by
    # the latest id too: one writer at a time, so ids are committed in their
    # order, and a held one (the common case in a spam wave) writes no
    # version. PostgreSQL's writers commit in any order: a row committed after
    # a higher id would be missed, so there it moves the version.
    if session.get_bind().dialect.name != "sqlite":
        session.info["responses_changed"] = True
    # A new row had no status before: readers see it if it is approved.
    if response.status == "approved":
        session.info["content_changed"] = True


# Built once: every commit that changes a response runs it.
_STORE_VERSIONS = (
    update(Setting.__table__)
    .where(Setting.__table__.c.key.in_(bindparam("keys", expanding=True)))
    .values(value=bindparam("new_value"))
)


def _store_new_version(session: Session) -> None:
    session.flush()  # commit flushes after this hook; flush now to see everything
    keys = [
        key
        for key, mark in (
            (CONTENT_VERSION_KEY, "content_changed"),
            (RESPONSES_VERSION_KEY, "responses_changed"),
        )
        if session.info.pop(mark, False)
    ]
    if not keys:
        return
    value = uuid.uuid4().hex
    result = session.connection().execute(
        _STORE_VERSIONS, {"keys": keys, "new_value": value}
    )
    if result.rowcount < len(keys):  # a new database: the rows come first
        for key in keys:
            # Two workers' first commits may both find the row missing.
            row = {"key": key, "value": value}
            session.execute(insert_or_ignore(session, Setting.__table__, "key", **row))
    # What this request read of the versions is now behind: anything keyed by
    # the content version later in the request reads it again.
    forget_read_settings()


def _forget_mark(session: Session) -> None:
    session.info.pop("content_changed", None)
    session.info.pop("responses_changed", None)


_LISTENERS = (
    ("before_flush", _mark_if_tracked),
    ("do_orm_execute", _mark_bulk_statements),
    ("before_commit", _store_new_version),
    ("after_rollback", _forget_mark),
)


def listen_for_changes() -> None:
    """Store a new content version with every commit that changes a page.

    On every ``Session`` of the process (once, whichever app asks first): the
    WordPress import and the CLI commit through sessions of their own too.
    """
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    response_inserted.connect(_mark_inserted_response)
