"""Readers' subscriptions: asked for with a comment, confirmed by the address.

Nothing is mailed for a subscription before the address's owner confirms it
(double opt-in). Confirming once trusts the browser that asked: its later
subscriptions of the same address need no new confirmation. Any other browser
asks again, so nobody can subscribe an address that somebody else once
confirmed. A mailbox is asked at most ``MAX_CONFIRMATIONS`` times a day, its
tagged spellings (``name+tag@``) included, so the form cannot be used to flood
somebody else's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)

from ..core.text import normalised_email
from ..database import insert_or_ignore, like_escaped
from ..extensions import db
from ..mail import enqueue
from ..mail.outbox import WAITING
from ..models import (
    Comment,
    ConfirmedAddress,
    OutboxMessage,
    Post,
    Subscription,
    utcnow,
)
from ..web.ratelimit import budget_key, over_budget

REPLIES = "replies"  # replies to the reader's own comment
ALL = "all"  # every new comment of the post
MAX_CONFIRMATIONS = 3
CONFIRMATION_WINDOW = timedelta(days=1)
# As long as the link of the confirmation mail (``mailtokens.CONFIRM_MAX_AGE``).
UNCONFIRMED_KEPT = timedelta(days=7)
CONFIRM_KIND = "confirm"
# The outbox row queued when a held comment is approved: its renderer asks the
# confirmations its writer waited for (``ask_after_approval``). Never for a
# comment approved as it arrived, whose requests were asked, or refused, then.
ASK_KIND = "ask"
# What ``subscribe`` did, told to the reader on the page the comment leads to.
STARTED, ASKED, NOT_ASKED = "started", "asked", "not-asked"
AFTER_APPROVAL = "after-approval"
SENDER_BUSY = "sender-busy"
NOTICES = {
    STARTED: "Riceverai via email gli avvisi che hai chiesto.",
    ASKED: "Ti abbiamo mandato un'email: apri il link che contiene per "
    "confermare gli avvisi.",
    NOT_ASKED: "Nelle ultime 24 ore abbiamo già chiesto tre volte di confermare "
    "questo indirizzo: apri una di quelle email, o chiedi di nuovo gli avvisi "
    "più tardi.",
    AFTER_APPROVAL: "Quando il commento sarà approvato ti manderemo un'email: "
    "apri il link che contiene per confermare gli avvisi.",
    SENDER_BUSY: "Dalla tua rete sono state chieste molte conferme via email "
    "nelle ultime 24 ore: il commento è salvato, ma gli avvisi chiedili di "
    "nuovo più tardi.",
}


# Gmail reads its two domains as one and ignores the dots in a name: 2^(n-1)
# spellings of an n-letter name reach one inbox.
_GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def _requests_to_mailbox(email: str, now: datetime, kind: str = CONFIRM_KIND) -> tuple:
    # The confirmation requests queued within the last day for ``email``'s
    # mailbox: the address and its tagged spellings (``name+tag@domain``),
    # which most mail servers deliver to one inbox, and Gmail's dotted ones.
    local, _, domain = normalised_email(email).rpartition("@")
    name = local.split("+", 1)[0]
    recipient, domains = OutboxMessage.recipient, (domain,)
    if domain in _GMAIL_DOMAINS:
        # Compared with every dot dropped (the domains' too): "v.ittima@gmail.com"
        # and "vittima@googlemail.com" are "vittima@gmailcom" and "...@googlemailcom".
        recipient = func.replace(recipient, ".", "")
        name, domains = (
            name.replace(".", ""),
            [d.replace(".", "") for d in _GMAIL_DOMAINS],
        )
    return (
        OutboxMessage.kind == kind,
        OutboxMessage.created_at > now - CONFIRMATION_WINDOW,
        or_(
            *(recipient == f"{name}@{each}" for each in domains),
            *(
                recipient.like(
                    f"{like_escaped(name)}+%@{like_escaped(each)}", escape="/"
                )
                for each in domains
            ),
        ),
    )


def confirmations_sent(email: str, now: datetime, kind: str = CONFIRM_KIND) -> int:
    """Requests of ``kind`` (confirmations by default) queued within the last
    day for ``email``'s mailbox, its other spellings included, so that tags or
    dots cannot multiply the daily limit."""
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            *_requests_to_mailbox(email, now, kind)
        )
    )


def mailbox_free_at(email: str, now: datetime) -> datetime:
    """When ``email``'s mailbox may be asked again: when enough of its requests
    of the last day have left the day for one more to fit (``now`` if it fits)."""
    moments = db.session.scalars(
        select(OutboxMessage.created_at)
        .where(*_requests_to_mailbox(email, now))
        .order_by(OutboxMessage.created_at)
    ).all()
    if len(moments) < MAX_CONFIRMATIONS:
        return now
    return moments[len(moments) - MAX_CONFIRMATIONS] + CONFIRMATION_WINDOW


def trusted_browser(email: str, owner_hash: str | None) -> bool:
    """Whether the browser ``owner_hash`` has a confirmed subscription of ``email``."""
    if not owner_hash:
        return False
    return db.session.scalar(
        select(
            exists().where(
                Subscription.email == normalised_email(email),
                Subscription.owner_token_hash == owner_hash,
                Subscription.confirmed_at.is_not(None),
            )
        )
    )


def subscribe(comment: Comment, scope: str, now: datetime | None = None) -> str:
    """Subscribe the writer of ``comment`` (caller commits); what happened:
    STARTED, ASKED (a confirmation request queued), AFTER_APPROVAL (it will be,
    when the comment is approved), NOT_ASKED (the address's requests of the
    day are used up), SENDER_BUSY (the sender's, counted by its IP address or
    IPv6 /64) or "" (nothing asked for)."""
    email = normalised_email(comment.author_email)
    if scope not in (REPLIES, ALL) or not email:
        return ""
    now = now or utcnow()
    owner_hash = comment.owner_token_hash or None
    subscription = Subscription(
        email=email,
        post_id=comment.post_id,
        comment_id=comment.id if scope == REPLIES else None,
        owner_token_hash=owner_hash,
        created_at=now,
        confirmed_at=now if trusted_browser(email, owner_hash) else None,
    )
    db.session.add(subscription)
    if subscription.confirmed_at is not None:
        return STARTED
    if comment.status != "approved":
        # The blog mails nobody about a comment readers cannot see: a spam wave
        # held for moderation makes it write to no address typed in the form.
        return AFTER_APPROVAL
    return _ask(subscription, now, comment.author_ip)


def _ask(subscription: Subscription, now: datetime, sender_ip: str | None) -> str:
    # ASKED, or why not: the mailbox's requests of the day, or the sender's
    # (None: the author approved the comment, and vouches for its sender).
    if confirmations_sent(subscription.email, now) >= MAX_CONFIRMATIONS:
        return NOT_ASKED
    # Each mailbox is asked a few times a day at most, but a script typing a
    # new address with each comment would have the blog write to thousands.
    per_sender = int(current_app.config["CONFIRMATIONS_PER_SENDER"])
    window = int(CONFIRMATION_WINDOW.total_seconds())
    if sender_ip is not None and over_budget(
        "confirm-sender", budget_key(sender_ip), per_sender, window
    ):
        return SENDER_BUSY
    db.session.flush()  # the request names the subscription
    enqueue(CONFIRM_KIND, ref_id=subscription.id, recipient=subscription.email)
    return ASKED


def ask_after_approval(
    comment: Comment, now: datetime | None = None
) -> datetime | None:
    """Ask for the confirmation of the subscriptions stored, unconfirmed, with
    ``comment`` while it was held, now that readers see it (caller commits).
    The author's approval vouches for the sender: only the mailbox's own daily
    limit applies, and a request it holds back is not dropped: the time to
    ask again is returned (None: every request is queued)."""
    now = now or utcnow()
    asked = select(OutboxMessage.id).where(*_confirmation_of_subscription())
    waiting = db.session.scalars(
        select(Subscription).where(
            *_asked_with(comment),
            Subscription.confirmed_at.is_(None),
            ~asked.exists(),
        )
    ).all()
    again = [
        mailbox_free_at(each.email, now)
        for each in waiting
        if _ask(each, now, None) == NOT_ASKED
    ]
    return min(again, default=None)


def _confirmation_of_subscription() -> tuple:
    # A confirmation request for the subscription of the enclosing statement,
    # not one sent for an earlier row whose id SQLite gave this one.
    return (
        OutboxMessage.kind == CONFIRM_KIND,
        OutboxMessage.ref_id == Subscription.id,
        OutboxMessage.created_at >= Subscription.created_at,
    )


@dataclass(frozen=True)
class ConfirmationRequest:
    """What a confirmation link names: an address, and the subscription it was
    sent for with that subscription's time (None for links from before
    subscriptions were confirmed one by one, which name the address alone)."""

    email: str
    subscription_id: int | None = None
    asked_at: str = ""  # ISO time: an id SQLite gives again names no other row

    def subscription(self) -> Subscription | None:
        """The subscription the link was sent for, if it is still there."""
        if self.subscription_id is None:
            return None
        asked = subscription_of(self.email, self.subscription_id)
        if asked is None:
            return None
        return asked if asked.created_at.isoformat() == self.asked_at else None


def subscription_of(email: str, subscription_id: int) -> Subscription | None:
    """Subscription ``subscription_id`` if it is ``email``'s: SQLite gives a
    deleted row's id again, to another address's subscription."""
    found = db.session.get(Subscription, subscription_id)
    return (
        found if found is not None and found.email == normalised_email(email) else None
    )


def request_for(subscription: Subscription) -> ConfirmationRequest:
    """The confirmation request of ``subscription``."""
    return ConfirmationRequest(
        subscription.email, subscription.id, subscription.created_at.isoformat()
    )


def _start(email: str, owner_hash: str | None, now: datetime) -> None:
    # Every subscription of ``email`` still waiting from that browser (None:
    # from a browser nobody knows, as before migration 0013).
    db.session.execute(
        update(Subscription)
        .where(
            Subscription.email == email,
            Subscription.owner_token_hash.is_not_distinct_from(owner_hash),
            Subscription.confirmed_at.is_(None),
        )
        .values(confirmed_at=now),
        execution_options={"synchronize_session": False},
    )


def confirm(
    request: ConfirmationRequest, confirming_hash: str = "", now: datetime | None = None
) -> None:
    """The address's owner confirms ``request`` from the browser
    ``confirming_hash`` (caller commits).

    The subscription the mail named starts. If the browser that asked is the
    one confirming, its other waiting subscriptions of the address start too,
    and it is trusted from then on; if not, the asking browser gains nothing
    (somebody else may have typed the address), while the confirming browser,
    which has just shown it reads the mail, starts its own.
    """
    email, now = normalised_email(request.email), now or utcnow()
    # The address's first consent, kept for the reader's privacy export (each
    # subscription's own confirmed_at decides who is mailed). A double click
    # confirms twice: the second row gives way.
    db.session.execute(
        insert_or_ignore(
            db.session(),
            ConfirmedAddress.__table__,
            "email",
            email=email,
            confirmed_at=now,
        )
    )
    if request.subscription_id is None:
        _start(email, None, now)
    elif (asked := request.subscription()) is not None and (
        asked.confirmed_at is None and asked.owner_token_hash != confirming_hash
    ):
        asked.confirmed_at, asked.owner_token_hash = now, None
    if confirming_hash:
        # The asking browser's own request starts here with the rest of them.
        _start(email, confirming_hash, now)


def asked_about(request: ConfirmationRequest) -> str:
    """The title of the post the request's subscription follows ("" if none)."""
    asked = request.subscription()
    return asked.post.title if asked is not None else ""


def what_is_asked(request: ConfirmationRequest) -> str:
    """What the request's subscription mails, in words ("le risposte al tuo
    commento su «…»"), for the confirmation's mail and page."""
    asked = request.subscription()
    if asked is None:
        return "le notifiche dei commenti che hai chiesto"
    if asked.comment_id is not None:
        return f"le risposte al tuo commento su «{asked.post.title}»"
    return f"i nuovi commenti su «{asked.post.title}»"


def awaits_confirmation(request: ConfirmationRequest) -> bool:
    """Whether ``request`` still has something to confirm."""
    if request.subscription_id is None:
        waiting = select(Subscription.id).where(
            Subscription.email == normalised_email(request.email),
            Subscription.owner_token_hash.is_(None),
            Subscription.confirmed_at.is_(None),
        )
        return db.session.scalar(waiting.limit(1)) is not None
    asked = request.subscription()
    return asked is not None and asked.confirmed_at is None


def is_confirmed(request: ConfirmationRequest) -> bool:
    """Whether what ``request`` asked for is running: its subscription confirmed
    and not ended since (or, for an address's request, one of its own)."""
    if request.subscription_id is None:
        running = select(Subscription.id).where(
            Subscription.email == normalised_email(request.email),
            Subscription.confirmed_at.is_not(None),
        )
        return db.session.scalar(running.limit(1)) is not None
    asked = request.subscription()
    return asked is not None and asked.confirmed_at is not None


@dataclass(frozen=True)
class Listed:
    """One subscription as the reader's page shows it."""

    id: int
    post_title: str
    post_slug: str
    replies_only: bool
    created_at: datetime
    confirmed_at: datetime | None
    # Its confirmation waits for the comment's approval: no mail asked yet.
    awaits_approval: bool = False


def subscriptions_of(email: str) -> list[Listed]:
    """Every subscription of ``email``, oldest first (one query)."""
    rows = db.session.execute(
        select(
            Subscription.id,
            Post.title,
            Post.slug,
            Subscription.comment_id.is_not(None),
            Subscription.created_at,
            Subscription.confirmed_at,
            _comment_of_subscription(Comment.status == "pending").exists(),
        )
        .join(Post, Post.id == Subscription.post_id)
        .where(Subscription.email == normalised_email(email))
        .order_by(Subscription.id)
    ).all()
    return [Listed(*row) for row in rows]


def end_subscriptions(
    email: str, subscription_id: int | None = None, post_id: int | None = None
) -> int:
    """End one, a post's or (both None) all of ``email``'s subscriptions; how
    many (the caller commits)."""
    statement = delete(Subscription).where(
        Subscription.email == normalised_email(email)
    )
    if subscription_id is not None:
        statement = statement.where(Subscription.id == subscription_id)
    if post_id is not None:
        statement = statement.where(Subscription.post_id == post_id)
    result = db.session.execute(
        statement, execution_options={"synchronize_session": False}
    )
    if result.rowcount:
        _forget_if_unsubscribed(normalised_email(email))
    return result.rowcount


def _forget_if_unsubscribed(address: str) -> None:
    # With nothing left to mail it, neither its confirmation nor the record of
    # what it was sent serves any more (a new subscription confirms again).
    left = select(Subscription.id).where(Subscription.email == address).limit(1)
    if db.session.scalar(left) is None:
        forget_address(address, waiting_too=False)


def forget_address(address: str, waiting_too: bool) -> int:
    """Delete ``address``'s confirmation and the mails sent to it, with those
    still waiting if ``waiting_too`` (the caller commits); how many rows."""
    mails = delete(OutboxMessage).where(OutboxMessage.recipient == address)
    if not waiting_too:
        mails = mails.where(OutboxMessage.status.not_in(WAITING))
    confirmation = delete(ConfirmedAddress).where(ConfirmedAddress.email == address)
    return sum(
        db.session.execute(
            statement, execution_options={"synchronize_session": False}
        ).rowcount
        for statement in (confirmation, mails)
    )


def subscribed_to_post(email: str, post_id: int) -> bool:
    """Whether ``email`` has any subscription about ``post_id``."""
    found = db.session.scalar(
        select(Subscription.id)
        .where(
            Subscription.email == normalised_email(email),
            Subscription.post_id == post_id,
        )
        .limit(1)
    )
    return found is not None


def end_subscriptions_asked_with(comment: Comment) -> int:
    """End the subscriptions the form stored with ``comment`` (the caller
    commits); how many. A response marked spam subscribes nobody, even once
    its address has confirmed."""
    if not comment.author_email.strip():
        return 0  # a ping, or an address erased: nobody to unsubscribe
    result = db.session.execute(
        delete(Subscription).where(*_asked_with(comment)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def follow_corrected_address(comment: Comment, email: str) -> int:
    """The author corrects a held ``comment``'s address: its subscriptions, not
    asked about yet, follow to ``email``, where the request will go at the
    approval (the caller commits, then stores the address); how many. A
    confirmed one stays with the address that confirmed it."""
    new_address = normalised_email(email)
    if comment.status != "pending" or not new_address:
        return 0
    if new_address == normalised_email(comment.author_email):
        return 0
    result = db.session.execute(
        update(Subscription)
        .where(*_asked_with(comment), Subscription.confirmed_at.is_(None))
        .values(email=new_address),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _asked_with(comment: Comment) -> tuple:
    # The subscriptions the form stored with ``comment``.
    return (
        Subscription.post_id == comment.post_id,
        Subscription.email == normalised_email(comment.author_email),
        or_(
            Subscription.comment_id == comment.id,
            # A subscription to the whole post names no comment: it was stored
            # in the comment's transaction, with the comment's own time.
            and_(
                Subscription.comment_id.is_(None),
                Subscription.created_at == comment.created_at,
            ),
        ),
    )


def forget_unconfirmed(now: datetime) -> int:
    """Delete the subscriptions whose confirmation link has expired unused
    (the caller commits); how many. An address a stranger typed is not kept.

    Those whose comment still waits for approval, or for the outbox to
    announce its approval, are kept, and so are those asked for within the
    link's life (at the comment's approval)."""
    since = now - UNCONFIRMED_KEPT
    asked_lately = select(OutboxMessage.id).where(
        *_confirmation_of_subscription(), OutboxMessage.created_at >= since
    )
    held = _comment_of_subscription(
        or_(Comment.status == "pending", _announcing().exists())
    )
    result = db.session.execute(
        delete(Subscription).where(
            Subscription.confirmed_at.is_(None),
            Subscription.created_at < since,
            ~asked_lately.exists(),
            ~held.exists(),
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _announcing() -> Select:
    # The run of the enclosing statement's comment that will ask its writer.
    return select(OutboxMessage.id).where(
        OutboxMessage.kind == ASK_KIND,
        OutboxMessage.ref_id == Comment.id,
        OutboxMessage.status.in_(WAITING),
    )


def _comment_of_subscription(*conditions) -> Select:
    # The comment the enclosing statement's subscription was stored with, if
    # it meets ``conditions``.
    return select(Comment.id).where(*conditions, *_stored_together())


def _stored_together() -> tuple:
    # A subscription and the comment it was stored with: by the comment's id,
    # or for a whole post's by the comment's time.
    return (
        Comment.post_id == Subscription.post_id,
        or_(
            Comment.id == Subscription.comment_id,
            and_(
                Subscription.comment_id.is_(None),
                Comment.created_at == Subscription.created_at,
            ),
        ),
    )


def writers_to_ask(*where: ColumnElement[bool]) -> list[Comment]:
    """The approved comments meeting ``where`` (a thread's, a post's) whose
    writer's subscription still waits for its confirmation to be asked (one
    query; most threads: none)."""
    asked = select(OutboxMessage.id).where(*_confirmation_of_subscription())
    waiting = select(Subscription.id).where(
        *_stored_together(), Subscription.confirmed_at.is_(None), ~asked.exists()
    )
    return list(
        db.session.scalars(
            select(Comment).where(
                *where,
                Comment.status == "approved",
                Comment.type == "comment",
                waiting.exists(),
            )
        )
    )


def ask_when_published(post_id: int) -> int:
    """Queue the confirmation requests of a post just published (or saved)
    for the comments approved while it was not, one run per thread (the
    caller commits); how many runs. A comment whose run waits already (its
    mailbox full that day) is left to it."""
    # Any one of a thread's comments: its run asks every writer readers see.
    threads = {
        comment.thread_id or comment.id: comment.id
        for comment in writers_to_ask(
            Comment.post_id == post_id, ~_announcing().exists()
        )
    }
    for comment_id in threads.values():
        enqueue(ASK_KIND, ref_id=comment_id)
    return len(threads)


def _wanting(comment: Comment) -> tuple:
    # Confirmed subscriptions to ``comment``'s post, or to the comment it answers.
    wanted = [Subscription.comment_id.is_(None)]
    if comment.parent_id is not None:
        wanted.append(Subscription.comment_id == comment.parent_id)
    return (
        Subscription.post_id == comment.post_id,
        Subscription.confirmed_at.is_not(None),
        or_(*wanted),
    )


def recipients(comment: Comment) -> set[str]:
    """Addresses with a confirmed subscription to ``comment``: to its post, or
    to the comment it answers; never its own writer."""
    emails = db.session.scalars(
        select(Subscription.email).where(*_wanting(comment)).distinct()
    )
    return set(emails) - {normalised_email(comment.author_email)}


def still_subscribed(email: str, comment: Comment) -> bool:
    """Whether ``email`` is confirmed and still wants mail about ``comment``.

    Asked once per notice: by the address's own index, not by reading every
    subscriber of the post (a fan-out to S subscribers would read S² rows)."""
    address = normalised_email(email)
    if address == normalised_email(comment.author_email):
        return False
    found = db.session.scalar(
        select(Subscription.id)
        .where(Subscription.email == address, *_wanting(comment))
        .limit(1)
    )
    return found is not None
