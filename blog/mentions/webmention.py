"""Received webmentions: checked at once, verified later by a job."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update

from ..comments.operations import EMPTYABLE
from ..comments.threads import hold_for_change, lift_replies
from ..extensions import db
from ..models import Comment, WebmentionRequest
from ..net.client import fetcher_for
from .receive import (
    PingRejected,
    Sender,
    address_retry_after,
    check_urls,
    existing_response,
    leads_to,
    over_address_limit,
    over_target_limit,
    pingable_post,
    read_source,
    refresh_response,
    store_response,
    target_retry_after,
)

# What the status URL says for each state of a request.
STATUS_TEXT = {
    "queued": "In attesa di verifica.",
    "processing": "Verifica in corso.",
    "accepted": "Verificata e registrata.",
    "updated": "Verificata: la risposta registrata è stata aggiornata.",
    "deleted": "La sorgente non contiene più il link: la risposta è stata rimossa.",
    "rejected": "Rifiutata.",
    "error": "Errore durante la verifica.",
}


TOO_MANY_MESSAGE = "Troppe webmention: riprova più tardi."


class InvalidWebmention(Exception):
    """A request refused synchronously, with its HTTP status."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds, for a 429


def accept_webmention(source: str, target: str, sender: Sender) -> WebmentionRequest:
    """Validate a webmention request and queue it (commits)."""
    if over_address_limit(sender.ip):
        wait = address_retry_after(sender.ip)
        raise InvalidWebmention(429, TOO_MANY_MESSAGE, wait)
    try:
        source, target = check_urls(source, target)
        post = pingable_post(target, source)
    except PingRejected as error:
        raise InvalidWebmention(400, error.message) from None
    if over_target_limit(post):
        raise InvalidWebmention(429, TOO_MANY_MESSAGE, target_retry_after(post))
    request = WebmentionRequest(
        id=secrets.token_hex(16),
        source=source,
        target=target,
        requester_ip=sender.ip[:45],
    )
    db.session.add(request)
    db.session.commit()
    return request


def forget_requesters(before: datetime) -> int:
    """Delete the requests verified before ``before`` (their status pages
    answer 404 from then on) and clear the sender's address of any left; the
    caller commits. How many requests."""
    old = WebmentionRequest.created_at < before
    done = db.session.execute(
        delete(WebmentionRequest).where(
            old, WebmentionRequest.status.not_in(("queued", "processing"))
        )
    ).rowcount
    waiting = db.session.execute(
        update(WebmentionRequest)
        .where(old, WebmentionRequest.requester_ip != "")
        .values(requester_ip="")
    ).rowcount
    return done + waiting


def claim(request_id: str) -> WebmentionRequest | None:
    """Mark a queued request as being processed, unless another worker has it."""
    result = db.session.execute(
        update(WebmentionRequest)
        .where(WebmentionRequest.id == request_id, WebmentionRequest.status == "queued")
        .values(status="processing")
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(WebmentionRequest, request_id)


def verify_request(request: WebmentionRequest) -> tuple[str, str]:
    """(status, message) after verifying the source; a stored or updated
    response is committed, a deleted one is left for the caller to commit."""
    fetcher = fetcher_for(current_app.config, requester_ip=request.requester_ip)
    try:
        post = pingable_post(request.target, request.source)
    except PingRejected as error:
        return "rejected", error.message
    existing = existing_response(post.id, request.source)
    # A stored response answers the post, not one address of it: it stays
    # (refreshed) while its source links to the post by any address, so a
    # request naming another (``?x=1``, ``https:``) cannot remove it.
    target = request.target if existing is None else leads_to(post)
    try:
        report, internal = read_source(
            fetcher.get,
            request.source,
            target,
            exact=existing is None,
            microformats=True,
        )
    except PingRejected as error:
        # The author's verdict stays: a sender may not clear a response marked
        # spam or trashed by taking the link away and putting it back.
        if existing is not None and error.gone and existing.status not in EMPTYABLE:
            hold_for_change(Comment.id == existing.id)
            # The author may have judged it while its source was fetched.
            current = db.session.get(Comment, existing.id, populate_existing=True)
            if current is None or current.status in EMPTYABLE:
                return "rejected", error.message
            lift_replies([current])  # the author's replies to it stay on the page
            db.session.delete(current)
            return "deleted", error.message
        return "rejected", error.message
    if existing is not None:
        refresh_response(existing, request.source, report, internal)
        return "updated", ""
    sender = Sender(ip=request.requester_ip)
    try:
        comment = store_response(
            post, request.source, report, "webmention", sender, internal
        )
    except PingRejected as error:  # stored meanwhile by another worker
        return "rejected", error.message
    return "accepted", f"Stato: {comment.status}."


def process_webmention(request_id: str) -> str | None:
    """Verify one queued webmention; the new status, or None if not claimed."""
    request = claim(request_id)
    if request is None:
        return None
    try:
        status, message = verify_request(request)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("webmention %s failed", request_id)
        status, message = "error", ""
        request = db.session.get(WebmentionRequest, request_id)
    request.status = status
    request.result = message
    db.session.commit()
    return status


def queued_requests() -> list[str]:
    """Ids of the webmentions waiting for verification, oldest first."""
    return list(
        db.session.scalars(
            select(WebmentionRequest.id)
            .where(WebmentionRequest.status == "queued")
            .order_by(WebmentionRequest.created_at)
        )
    )
