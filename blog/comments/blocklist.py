"""The author's blocklist: senders whose new responses go straight to spam.

The rule itself (which values name a sender, which reason the queue shows) is
plain functions in ``moderation``; here are the look-up (a subquery of a
handful of exact matches on the (value, kind) index, asked within the sender's
history for a comment, alone for a ping or an edit) and the author's changes
to the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ScalarSelect, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..core.text import normalised_email
from ..database import delete_row
from ..extensions import db
from ..models import Block, Comment
from .moderation import (
    BLOCK_LABELS,
    address_keys,
    block_address,
    block_host,
    block_keys,
    block_network,
    blocked_reason,
    email_keys,
    mail_domain,
    url_keys,
)


def block_question(keys: set[tuple[str, str]]) -> tuple[tuple[str, ...], dict]:
    """The kinds ``matching_block`` asks about, in order, and their values as
    the statement's parameters (``block_0``, ``block_1``...)."""
    ordered = sorted(keys)
    kinds = tuple(kind for kind, _ in ordered)
    return kinds, {f"block_{n}": value for n, (_, value) in enumerate(ordered)}


@lru_cache(maxsize=64)
def matching_block(kinds: tuple[str, ...]) -> ScalarSelect | None:
    """The subquery giving "kind value" of a block that names one of the
    sender's keys (NULL when none does); None when there is nothing to look up.

    Built once for each list of kinds, with the values as parameters: building
    the statement cost more than running it."""
    if not kinds:
        return None
    return (
        select(Block.kind + " " + Block.value)
        .where(
            or_(
                *(
                    and_(Block.value == bindparam(f"block_{n}"), Block.kind == kind)
                    for n, kind in enumerate(kinds)
                )
            )
        )
        .order_by(Block.kind, Block.value)
        .limit(1)
        .scalar_subquery()
    )


def reason_for(keys: set[tuple[str, str]], match: str | None) -> str:
    """The queue's reason for what ``matching_block`` found ('' for nothing)."""
    if not match:
        return ""
    kind, _, value = match.partition(" ")
    return blocked_reason(keys, [(kind, value)])


def blocked_sender(email: str, urls: tuple[str | None, ...], ip: str) -> str:
    """Why the blocklist names this sender ('' when it does not): one query."""
    keys = block_keys(email, urls, ip)
    kinds, values = block_question(keys)
    subquery = matching_block(kinds)
    if subquery is None:
        return ""
    return reason_for(keys, db.session.scalar(select(subquery), values))


@dataclass(frozen=True)
class BlockChoice:
    """One way the queue offers to block a response's sender."""

    kind: str
    value: str

    @property
    def label(self) -> str:
        """What the author reads beside the choice."""
        return f"{BLOCK_LABELS[self.kind]}: {self.value}"


def block_choices(comment: Comment) -> list[BlockChoice]:
    """What a queue row offers to block: the email, the website's (or source's)
    domain, the address and its network, as far as the response has them."""
    return list(_block_choices(comment))


def can_block(comment: Comment) -> bool:
    """Whether ``block_choices`` offers anything, working out only its first
    choice (a queue page asks for each of its rows)."""
    return next(_block_choices(comment), None) is not None


def _block_choices(comment: Comment) -> Iterator[BlockChoice]:
    if comment.author_email.strip():
        address = normalised_email(comment.author_email)
        yield BlockChoice("email", address)
        if mail_domain(address):
            yield BlockChoice("mailhost", mail_domain(address))
    host = block_host(comment.source_url or comment.author_url or "")
    if host:
        yield BlockChoice("domain", host)
    address = block_address(comment.author_ip or "")
    if address:
        yield BlockChoice("ip", address)
        yield BlockChoice("network", block_network(address))


def find_block(kind: str, value: str) -> Block | None:
    """The block of this kind and value, if the author made it."""
    return db.session.scalar(
        select(Block).where(Block.kind == kind, Block.value == value)
    )


class BlockError(ValueError):
    """A block that cannot be made, with the Italian reason."""


def block_sender(comment: Comment, kind: str, reason: str) -> Block:
    """Block ``comment``'s sender by ``kind`` (caller commits); the value comes
    from the stored response, never from the request."""
    choice = next((c for c in block_choices(comment) if c.kind == kind), None)
    if choice is None:
        raise BlockError("Questa risposta non ha un dato da bloccare di questo tipo.")
    existing = find_block(kind, choice.value)
    if existing is not None:
        return existing
    block = Block(
        kind=kind,
        value=choice.value,
        reason=reason.strip()[:300] or f"dalla coda, risposta n. {comment.id}",
    )
    db.session.add(block)
    return block


def commit_block(kind: str, value: str) -> None:
    """Commit a block just made by ``block_sender``. A double click sends two
    requests: when its twin stored the same block first, that is no error."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if find_block(kind, value) is None:
            raise


def all_blocks() -> list[Block]:
    """Every block, newest first (the privacy tools match them all)."""
    return list(db.session.scalars(_NEWEST_FIRST))


_NEWEST_FIRST = select(Block).order_by(Block.created_at.desc(), Block.id)
BLOCKS_PER_PAGE = 50


def blocks_page(page: int) -> tuple[list[Block], int, int]:
    """One page of the blocks, newest first, the page it is (the last one for
    a number past it), and how many there are in all:
    blocking from the queue can make the list long, and the settings page
    must not carry every one of them."""
    total = db.session.scalar(select(func.count(Block.id)))
    # Past the last page (a link kept after lifting blocks): the last page.
    page = min(page, max(1, -(-total // BLOCKS_PER_PAGE)))
    offset = (page - 1) * BLOCKS_PER_PAGE
    blocks = db.session.scalars(_NEWEST_FIRST.limit(BLOCKS_PER_PAGE).offset(offset))
    return list(blocks), page, total


def lift_block(block_id: int) -> bool:
    """Remove a block (caller commits); whether there was one."""
    return delete_row(Block, block_id)


# How many of the newest held responses "Blocca" looks at to move with it, and
# how many one click moves at most (the rest with the next click): a move
# holds the write lock, which readers' comments wait for. No more than the
# queue's bulk action takes (``admin.actions.MAX_BULK``), which moves them.
HELD_LOOKED_AT = 20_000
HELD_MOVED = 500


def held_from_sender(kind: str, value: str) -> tuple[list[int], bool]:
    """Up to HELD_MOVED held responses a block of ``kind`` ``value`` names (the
    newest HELD_LOOKED_AT looked at), by the rule that judges new ones, and
    whether more may be left."""
    columns, keys_of = _KEYS_BY_KIND[kind]
    found = []
    rows = db.session.execute(
        select(Comment.id, *columns)
        .where(Comment.status == "pending", Comment.author_id.is_(None))
        .order_by(Comment.id.desc())
        .limit(HELD_LOOKED_AT)
    )
    for comment_id, *values in rows:
        if (kind, value) in keys_of(*values):
            found.append(comment_id)
            if len(found) == HELD_MOVED:
                return found, True
    return found, False


# For each kind of block, the columns that name a sender by it and their keys:
# a scan of thousands reads and works out only those.
_KEYS_BY_KIND = {
    "email": ((Comment.author_email,), lambda email: email_keys(email or "")),
    "mailhost": ((Comment.author_email,), lambda email: email_keys(email or "")),
    "domain": (
        (Comment.author_url, Comment.source_url),
        lambda url, source: url_keys((url, source)),
    ),
    "ip": ((Comment.author_ip,), lambda ip: address_keys(ip or "")),
    "network": ((Comment.author_ip,), lambda ip: address_keys(ip or "")),
}
