"""Sending: every external link of a published post pinged once, results recorded.

``plan_pings`` (no network) records one pending ``OutboundPing`` per link; a job
then sends each: a link to one of our own posts is recorded straight from the
database, any other link gets a webmention or, failing that, a pingback.
"""

from __future__ import annotations

import xmlrpc.client
from urllib.parse import urldefrag, urlencode, urljoin

from bs4 import Tag
from flask import current_app
from sqlalchemy import delete, select, update

from ..comments.operations import EMPTYABLE
from ..comments.threads import hold_for_change, lift_replies
from ..core.text import fits_an_index, is_web_url
from ..core.urls import post_url
from ..extensions import db
from ..models import Comment, OutboundPing, Post, utcnow
from ..net.client import Fetcher, FetchError, fetcher_for
from .discover import discover
from .receive import (
    PingRejected,
    Sender,
    existing_response,
    internal_report,
    pingable_post,
    refresh_response,
    store_response,
)
from .targets import is_ours, match_target
from .verify import SourceReport, excerpt_around, parse_html
from .xmlrpc import BadRequest, parse_response

MAX_LINKS_PER_POST = 100


def _anchors(post: Post) -> dict[str, Tag]:
    # Each distinct http(s) link of the body (absolute, no fragment) and the
    # first anchor that makes it, at most MAX_LINKS_PER_POST.
    base = post_url(post)
    links: dict[str, Tag] = {}
    for anchor in parse_html(post.body).find_all("a", href=True):
        url = urldefrag(urljoin(base, str(anchor["href"]).strip())).url
        if is_web_url(url) and fits_an_index(url) and url != base:
            links.setdefault(url, anchor)
            if len(links) == MAX_LINKS_PER_POST:
                break
    return links


def post_links(post: Post) -> list[str]:
    """The distinct http(s) links of a post's body, absolute, without fragments."""
    return list(_anchors(post))


def plan_pings(post: Post, again: bool = False) -> list[OutboundPing]:
    """Pending pings for the post's links not pinged yet (all of them when
    ``again``); returns the pending ones (caller commits)."""
    existing = {
        ping.target_url: ping
        for ping in db.session.scalars(
            select(OutboundPing).where(OutboundPing.post_id == post.id)
        )
    }
    pending = []
    for url in post_links(post):
        ping = existing.get(url)
        if ping is None:
            ping = OutboundPing(post_id=post.id, target_url=url, status="pending")
            db.session.add(ping)
        elif again:
            ping.status = "pending"
        if ping.status == "pending":
            pending.append(ping)
    db.session.flush()
    return pending


def ping_internal(post: Post, target: str) -> bool:
    """Record a link between two of our posts from the database, approved at
    once (committed); False when it was recorded already."""
    source = post_url(post)
    target_post = pingable_post(target)
    if existing_response(target_post.id, source) is not None:
        return False
    report = internal_report(source, target, exact=False)
    store_response(target_post, source, report, "pingback", Sender(), internal=True)
    return True


def recheck_internal_pings(post: Post, earlier_address: str | None = None) -> int:
    """After ``post`` was saved: the pingbacks it left on our other posts (at
    its address, or ``earlier_address`` before a rename) follow it. Those it no
    longer supports (a draft now, or the link taken out) are deleted, their
    replies kept, as a webmention whose source dropped the link is, and its
    link will record them again once it is back; the others take its new
    address, title and excerpt. One reading of the body, one look-up per
    link. How many were deleted (commits)."""
    if not post.is_published and earlier_address is None:
        return 0  # never published: it left no pingback
    address = post_url(post)
    pings = db.session.scalars(
        select(Comment).where(
            Comment.type == "pingback",
            Comment.source_url.in_({address, earlier_address} - {None}),
        )
    ).all()
    if not pings:
        return 0
    anchors = _anchors(post) if post.is_published else {}
    linked = _linked_posts(anchors)
    kept: dict[int, Comment] = {}
    gone = []
    # A post may hold one response from an address: where one is at the post's
    # address already (the author's spam verdict included), a twin left at an
    # older one goes, rather than move there.
    taken = {ping.post_id for ping in pings if ping.source_url == address}
    for ping in sorted(pings, key=lambda ping: ping.source_url != address):
        if ping.status in EMPTYABLE:
            continue  # the author's verdict stays, as a webmention's does
        moves = ping.source_url != address
        if ping.post_id in linked and ping.post_id not in kept:
            if not (moves and ping.post_id in taken):
                kept[ping.post_id] = ping
                continue
        gone.append(ping)
    for target_id, ping in kept.items():
        report = SourceReport(
            title=post.title, excerpt=excerpt_around(linked[target_id])
        )
        ping.source_url = address
        refresh_response(ping, address, report, internal=True)
    if gone:
        hold_for_change(Comment.id.in_([ping.id for ping in gone]))
        lift_replies(gone)
        for ping in gone:
            db.session.delete(ping)
        _forget_links_gone(post, set(anchors))
        db.session.commit()
    return len(gone)


def _linked_posts(anchors: dict[str, Tag]) -> dict[int, Tag]:
    # Our posts the body's links lead to, each with the first anchor that does.
    linked: dict[int, Tag] = {}
    for url, anchor in anchors.items():
        target = match_target(url).post if is_ours(url) else None
        if target is not None:
            linked.setdefault(target.id, anchor)
    return linked


def _forget_links_gone(post: Post, current: set[str]) -> None:
    # The record that ``post`` pinged one of our posts goes with the link
    # (``current``: the links it still has; none for a draft): when it is
    # back, it is planned and recorded again. No look-up per row.
    db.session.execute(
        delete(OutboundPing).where(
            OutboundPing.post_id == post.id,
            OutboundPing.method == "internal",
            OutboundPing.target_url.not_in(current),
        ),
        execution_options={"synchronize_session": False},
    )


def send_webmention(fetcher: Fetcher, endpoint: str, source: str, target: str) -> str:
    """POST the webmention; a short description of the answer."""
    body = urlencode({"source": source, "target": target}).encode("ascii")
    response = fetcher.post(endpoint, body, "application/x-www-form-urlencoded")
    if not 200 <= response.status < 300:
        raise FetchError("network", f"l'endpoint risponde {response.status}")
    return f"HTTP {response.status}"


def send_pingback(fetcher: Fetcher, endpoint: str, source: str, target: str) -> str:
    """Call pingback.ping; the server's answer, or the fault as an error."""
    body = xmlrpc.client.dumps((source, target), "pingback.ping", encoding="utf-8")
    response = fetcher.post(endpoint, body.encode("utf-8"), "text/xml", "text/xml")
    try:
        answer = parse_response(response.body)
    except xmlrpc.client.Fault as fault:
        message = f"fault {fault.faultCode}: {fault.faultString}"
        raise FetchError("network", message) from None
    except BadRequest as error:
        raise FetchError("network", str(error)) from None
    return str(answer)[:500]


def send_one(ping: OutboundPing, post: Post, fetcher: Fetcher) -> None:
    """Deliver one ping and record method, endpoint, status and result (caller
    commits; a link to one of our posts is stored, and committed, at once)."""
    ping.attempted_at = utcnow()
    target = ping.target_url
    try:
        if is_ours(target):
            ping.method, ping.endpoint = "internal", ""
            recorded = ping_internal(post, target)
            ping.status = "sent"
            ping.result = "registrato" if recorded else "già registrato"
            return
        endpoint = discover(fetcher.get(target))
        if endpoint is None:
            ping.status, ping.result = "none", "nessun endpoint"
            return
        ping.method, ping.endpoint = endpoint.method, endpoint.url[:2000]
        send = send_webmention if endpoint.method == "webmention" else send_pingback
        ping.result = send(fetcher, endpoint.url, post_url(post), target)
        ping.status = "sent"
    except (FetchError, PingRejected) as error:
        ping.status, ping.result = "failed", str(error)[:1000]


def send_pending(post_id: int) -> int:
    """Send every pending ping of a post (commits after each); how many were tried."""
    post = db.session.get(Post, post_id)
    if post is None or not post.is_published:
        return 0
    fetcher = fetcher_for(current_app.config)
    pending = db.session.scalars(
        select(OutboundPing)
        .where(OutboundPing.post_id == post_id, OutboundPing.status == "pending")
        .order_by(OutboundPing.id)
    ).all()
    for ping in pending:
        if not _claim(ping.id):
            continue  # another worker is sending it
        send_one(ping, post, fetcher)
        db.session.commit()
    return len(pending)


def _claim(ping_id: int) -> bool:
    claimed = db.session.execute(
        update(OutboundPing)
        .where(OutboundPing.id == ping_id, OutboundPing.status == "pending")
        .values(status="sending", attempted_at=utcnow())
    )
    db.session.commit()
    return claimed.rowcount == 1


def posts_with_pending_pings() -> list[int]:
    """Ids of posts that have pings waiting to be sent."""
    return list(
        db.session.scalars(
            select(OutboundPing.post_id)
            .where(OutboundPing.status == "pending")
            .distinct()
            .order_by(OutboundPing.post_id)
        )
    )


def outbound_pings(post_id: int) -> list[OutboundPing]:
    """The pings sent (or tried) for a post, for the author to see."""
    return list(
        db.session.scalars(
            select(OutboundPing)
            .where(OutboundPing.post_id == post_id)
            .order_by(OutboundPing.id)
        )
    )
