"""What the comments keep about a person, found by email: exported or erased.

One of the privacy requests' "personal data sources" (``blog.privacy``): the
comments and replies written with an address, with everything stored about
them; erasing keeps the conversation readable (the text stays, anonymised, or
gives way to a notice) so nobody else's reply loses its place.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from unicodedata import normalize

from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import joinedload

from ..core.settings import UNSEEN_BY_READERS
from ..core.text import ascii_domain, normalised_email
from ..core.urls import post_url
from ..database import like_escaped, lowercase
from ..extensions import db
from ..models import Block, Comment, ConfirmedAddress, OutboxMessage
from .blocklist import all_blocks
from .moderation import BLOCK_LABELS, BLOCKED_REASON
from .subscriptions import end_subscriptions, forget_address, subscriptions_of

ANONYMOUS = "Anonimo"
REMOVED_TEXT = "Commento rimosso su richiesta di chi l'aveva scritto."


def _written_with(email: str):
    """The comments written with ``email``, however it was typed: in any case,
    with its domain in any spelling IDNA reads as one (``normalised_email``)."""
    address = normalised_email(email)
    typed_local = email.strip().rpartition("@")[0]
    # Addresses are stored as typed. The database narrows to the local part
    # (composed or decomposed, as a keyboard may have typed it), lowering
    # both sides itself: PostgreSQL's lower() and Python's differ on some
    # letters (a final sigma, a dotted capital I). The rest is compared here.
    locals_typed = {normalize(form, typed_local) for form in ("NFC", "NFD")}
    written = [
        lowercase(Comment.author_email).like(
            lowercase(literal(like_escaped(local) + "@%")), escape="/"
        )
        for local in sorted(locals_typed)
    ]
    found = db.session.execute(
        select(Comment.id, Comment.author_email).where(or_(*written))
    )
    ids = [row.id for row in found if normalised_email(row.author_email) == address]
    return Comment.id.in_(ids)


def known_to_readers(email: str) -> bool:
    """Whether ``email`` signed a comment readers see, or confirmed it wants our
    mails: an address the blog may write to about the data it keeps of it."""
    confirmed = select(ConfirmedAddress.email).where(
        ConfirmedAddress.email == normalised_email(email)
    )
    if db.session.scalar(confirmed) is not None:
        return True
    shown = select(Comment.id).where(_written_with(email), Comment.status == "approved")
    return db.session.scalar(shown.limit(1)) is not None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def export_comments(email: str) -> list[dict]:
    """Every comment and reply written with ``email``, with all that is stored."""
    comments = db.session.scalars(
        select(Comment)
        .where(_written_with(email))
        .options(joinedload(Comment.post))
        .order_by(Comment.created_at, Comment.id)
    )
    return [
        {
            "id": comment.id,
            "type": comment.type,
            "post": comment.post.title,
            "post_url": post_url(comment.post),
            "in_reply_to": comment.parent_id,
            "date": _iso(comment.created_at),
            "edited": _iso(comment.edited_at),
            "status": comment.status,
            "moderation_reason": comment.moderation_reason,
            "text": comment.content,
            "name": comment.author_name,
            "email": comment.author_email,
            "website": comment.author_url,
            "ip": comment.author_ip,
            "user_agent": comment.user_agent,
        }
        for comment in comments
    ]


def erase_comments(email: str, delete_texts: bool) -> int:
    """Anonymise every comment written with ``email`` (the caller commits): the
    name becomes "Anonimo", the rest of the sender's data is cleared, and with
    ``delete_texts`` the text gives way to a notice. How many comments."""
    values = {
        "author_name": ANONYMOUS,
        "author_email": "",
        "author_url": "",
        "author_ip": "",
        "user_agent": "",
        # The hash ties the comment to a browser: a trace of the person too.
        "owner_token_hash": "",
        # A block's reason names the address or IP it matched.
        "moderation_reason": "",
    }
    if delete_texts:
        values.update(content=REMOVED_TEXT, content_html=f"<p>{REMOVED_TEXT}</p>")
    result = db.session.execute(
        update(Comment).where(_written_with(email)).values(**values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def purge_addresses(now: datetime, days: int) -> int:
    """Clear the IP address and browser of comments older than ``days`` (0 keeps
    them), the caller commits; how many comments were cleared."""
    if days <= 0:
        return 0
    old = Comment.created_at < now - timedelta(days=days)
    # A block's reason names the IP it matched: it goes with the IP.
    ip_reason = f"{BLOCKED_REASON} ({BLOCK_LABELS['ip']} "
    db.session.execute(
        update(Comment)
        .where(old, Comment.moderation_reason.startswith(ip_reason, autoescape=True))
        .values(
            moderation_reason=BLOCKED_REASON + f" ({BLOCK_LABELS['ip']})",
            # The time of the last change is when it went to spam or the trash,
            # which empty_expired counts from: clearing an address is no change.
            updated_at=Comment.updated_at,
        ),
        execution_options={"synchronize_session": False, UNSEEN_BY_READERS: True},
    )
    result = db.session.execute(
        update(Comment)
        .where(old, or_(Comment.author_ip != "", Comment.user_agent != ""))
        .values(author_ip="", user_agent="", updated_at=Comment.updated_at),
        # Readers are shown neither: the purge (each worker's first request, then
        # hourly) must not make every worker render its cached pages again.
        execution_options={"synchronize_session": False, UNSEEN_BY_READERS: True},
    )
    return result.rowcount


def export_subscriptions(email: str) -> list[dict]:
    """The address's subscriptions, its confirmation and the mails queued or sent
    to it (what, when, whether delivered), one record each."""
    address = normalised_email(email)
    records: list[dict] = [
        {
            "record": "subscription",
            "post": listed.post_title,
            "replies_to_own_comment_only": listed.replies_only,
            "date": _iso(listed.created_at),
            # When the address's owner consented; None: still waiting.
            "confirmed": _iso(listed.confirmed_at) if listed.confirmed_at else None,
        }
        for listed in subscriptions_of(address)
    ]
    confirmed = db.session.get(ConfirmedAddress, address)
    if confirmed is not None:
        records.append(
            {"record": "confirmed_address", "date": _iso(confirmed.confirmed_at)}
        )
    mails = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id)
    )
    records += [
        {
            "record": "mail",
            "kind": mail.kind,
            "status": mail.status,
            "date": _iso(mail.created_at),
            "sent": _iso(mail.sent_at),
        }
        for mail in mails
    ]
    return records


def erase_subscriptions(email: str, delete_texts: bool) -> int:
    """End the address's subscriptions, forget its confirmation and the mails
    queued or sent to it (the caller commits); how many records."""
    address = normalised_email(email)
    # First: ending the last subscription would forget some of them uncounted.
    erased = forget_address(address, waiting_too=True)
    return erased + end_subscriptions(address)


# What may stand in an address's local part (RFC 5322's atext, and dots).
_LOCAL_PART = r"[\w.!#$%&'*+/=?^`{|}~-]"


def _named(address: str) -> re.Pattern[str]:
    # The whole address, in either spelling of its domain, not a part of
    # another ("ria@" within "maria@"); a full stop may end the sentence.
    spellings = sorted({address, ascii_domain(address)}, key=len, reverse=True)
    either = "|".join(re.escape(spelling) for spelling in spellings)
    return re.compile(rf"(?<!{_LOCAL_PART})(?:{either})(?!\.?[\w-])", re.IGNORECASE)


def _blocks_naming(address: str) -> list[Block]:
    # The blocklist is the author's short list: read whole, matched here.
    named = _named(address)
    return [
        block
        for block in all_blocks()
        if (block.kind == "email" and block.value == address)
        # As the author typed it: composed or decomposed.
        or named.search(normalize("NFC", block.reason))
    ]


def export_blocks(email: str) -> list[dict]:
    """The author's blocks of the address, and those whose reason names it."""
    return [
        {
            "record": "block",
            "kind": block.kind,
            "value": block.value,
            "reason": block.reason,
            "date": _iso(block.created_at),
        }
        for block in _blocks_naming(normalised_email(email))
    ]


def erase_blocks(email: str, delete_texts: bool) -> int:
    """Lift the address's block and take the address out of the other blocks'
    reasons (the caller commits); how many blocks. The author may block the
    address again: the request asked for everything kept about it to go."""
    address = normalised_email(email)
    blocks = _blocks_naming(address)
    for block in blocks:
        if block.kind == "email" and block.value == address:
            db.session.delete(block)
        else:
            reason = normalize("NFC", block.reason)
            block.reason = _named(address).sub("", reason).strip()
    return len(blocks)
