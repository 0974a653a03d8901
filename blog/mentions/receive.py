"""Received pings: the checks shared by pingback and webmention, and storing them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..comments.operations import NewResponse, add_response, update_response
from ..core.settings import current_settings
from ..core.text import fits_an_index, is_web_url
from ..core.urls import post_url
from ..extensions import db
from ..models import Comment, Post, utcnow
from ..net.client import FetchError, Response
from ..web.ratelimit import budget_key, over_budget, seconds_to_reset
from .targets import is_ours, match_target, normalise_url
from .verify import LinkTarget, SourceReport, analyse_source

# Pingback 1.0 fault codes.
GENERIC = 0
SOURCE_MISSING = 0x0010
NO_LINK = 0x0011
TARGET_MISSING = 0x0020
TARGET_INVALID = 0x0021
ALREADY_REGISTERED = 0x0030
ACCESS_DENIED = 0x0031
UPSTREAM_ERROR = 0x0032

Fetch = Callable[[str], Response]


class PingRejected(Exception):
    """A ping turned away, with its Pingback fault code and a message."""

    def __init__(self, code: int, message: str, gone: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # The source answered for sure that the link is not there (404, 410,
        # no link): a stored response from it is removed on re-verification.
        self.gone = gone


@dataclass(frozen=True)
class Sender:
    """Who asked for the ping: address and user agent of the request."""

    ip: str = ""
    user_agent: str = ""


def _budget(per: str, key: str) -> tuple[str, str, int, int]:
    """(bucket, key, limit, window) of the pings counted per address ("ip")
    or per post ("target")."""
    config = current_app.config
    limit = int(config[f"PING_LIMIT_PER_{per.upper()}"])
    return f"ping-{per}", key, limit, int(config["PING_LIMIT_WINDOW"])


def _post_key(post: Post) -> str:
    # The post, not the URL: "?v=1", "?v=2" … all name the same post.
    return f"post-{post.id}"


def over_address_limit(ip: str) -> bool:
    """Count one ping request from ``ip``; True when that address is flooding."""
    # As the POST budget counts: an IPv6 client holds its whole /64.
    return over_budget(*_budget("ip", budget_key(ip)))


def over_target_limit(post: Post) -> bool:
    """Count one valid ping to ``post``; True when the post gets too many.

    Called only after the request passed validation: invalid requests from
    anybody must not use up the allowance of the post's real senders.
    """
    return over_budget(*_budget("target", _post_key(post)))


def address_retry_after(ip: str) -> int:
    """Seconds until ``ip`` may ping again."""
    return seconds_to_reset(*_budget("ip", budget_key(ip)))


def target_retry_after(post: Post) -> int:
    """Seconds until ``post`` takes pings again."""
    return seconds_to_reset(*_budget("target", _post_key(post)))


def check_urls(source: object, target: object) -> tuple[str, str]:
    """Both URLs usable and not the same page; a source of ours comes back as
    its post's own address (``canonical_source``)."""
    if not (is_web_url(source) and fits_an_index(source)):
        raise PingRejected(SOURCE_MISSING, "L'URL sorgente non è un indirizzo web.")
    if not is_web_url(target):
        raise PingRejected(TARGET_MISSING, "L'URL di destinazione non è valido.")
    assert isinstance(source, str) and isinstance(target, str)
    source = canonical_source(source)
    if normalise_url(source) == normalise_url(target):
        raise PingRejected(GENERIC, "Sorgente e destinazione coincidono.")
    return source, target


def canonical_source(source: str) -> str:
    """One of our own posts as a source, named by its address here however the
    ping spelled it (``?a=1``, ``https:``, ``#x``): one response per linking
    post, whose link is the one the post page shows."""
    if is_ours(source):
        post = match_target(source).post
        if post is not None:
            return post_url(post)
    return source


def leads_to(post: Post) -> Callable[[str], bool]:
    """A test of a source's links: whether one leads to ``post`` by any of its
    addresses here (its own in any spelling, an old one, ``/?p=N``). A stored
    response answers the post, so it is checked again with this."""
    seen: dict[str, bool] = {}
    looked_up = 0
    own = normalise_url(post_url(post))

    def test(url: str) -> bool:
        nonlocal looked_up
        if normalise_url(url) == own:  # its address here: no look-up
            return True
        if url not in seen:
            # Each of our URLs costs a look-up: a page of thousands of links to
            # us asks at most MAX_LOOKED_UP, the others count as no link.
            found = None
            if is_ours(url) and looked_up < MAX_LOOKED_UP:
                looked_up += 1
                found = match_target(url).post
            seen[url] = found is not None and found.id == post.id
        return seen[url]

    return test


MAX_LOOKED_UP = 200


def pingable_post(target: str, source: str | None = None) -> Post:
    """The published post with pings open that ``target`` names; with pings
    closed, still the post when ``source`` has a response on it already, so
    that its sender may update or retract it (W3C Webmention 3.2.4)."""
    if not is_ours(target):
        raise PingRejected(TARGET_INVALID, "La destinazione non è su questo sito.")
    match = match_target(target)
    if not match.exists:
        raise PingRejected(TARGET_MISSING, "La destinazione non esiste.")
    post = match.post
    if post is None:
        raise PingRejected(TARGET_INVALID, "La destinazione non è un articolo.")
    if not post.pings_open and (
        source is None or existing_response(post.id, source) is None
    ):
        raise PingRejected(TARGET_INVALID, "I ping per questo articolo sono chiusi.")
    return post


def existing_response(post_id: int, source: str) -> Comment | None:
    """The response already stored for this source on this post."""
    return db.session.scalar(
        select(Comment).where(Comment.post_id == post_id, Comment.source_url == source)
    )


def internal_report(source: str, target: LinkTarget, exact: bool) -> SourceReport:
    """Read one of our own posts from the database (never over HTTP)."""
    post = match_target(source).post
    if post is None:
        raise PingRejected(SOURCE_MISSING, "La sorgente non esiste.", gone=True)
    report = analyse_source(post.body, post_url(post), target, exact)
    if report is None:
        raise PingRejected(
            NO_LINK, "La sorgente non contiene un link alla destinazione.", gone=True
        )
    return SourceReport(title=post.title, excerpt=report.excerpt)


def fetch_report(
    fetch: Fetch, source: str, target: LinkTarget, exact: bool, microformats: bool
) -> SourceReport:
    """Fetch the source once and read it, mapping failures to fault codes."""
    try:
        response = fetch(source)
    except FetchError as error:
        code = UPSTREAM_ERROR if error.kind == "timeout" else SOURCE_MISSING
        raise PingRejected(code, f"La sorgente non è raggiungibile: {error}") from None
    # Only a 410 says the page is gone for good: a 404 may be a moved or
    # briefly broken page, and its response stays until the source says more.
    if response.status in (404, 410):
        raise PingRejected(
            SOURCE_MISSING,
            f"La sorgente risponde {response.status}.",
            gone=response.status == 410,
        )
    if response.status >= 500:
        raise PingRejected(UPSTREAM_ERROR, f"La sorgente risponde {response.status}.")
    if response.status >= 300:
        raise PingRejected(SOURCE_MISSING, f"La sorgente risponde {response.status}.")
    if not response.is_html:
        # A page this blog cannot read for links (JSON, plain text) says
        # nothing about a response already stored.
        raise PingRejected(NO_LINK, "La sorgente non è una pagina HTML.")
    report = analyse_source(
        response.body,
        response.url,
        target,
        exact,
        charset=response.charset,
        microformats=microformats,
    )
    if report is None:
        raise PingRejected(
            NO_LINK, "La sorgente non contiene un link alla destinazione.", gone=True
        )
    return report


def read_source(
    fetch: Fetch,
    source: str,
    target: LinkTarget,
    exact: bool,
    microformats: bool = False,
) -> tuple[SourceReport, bool]:
    """The report on ``source`` and whether it is one of our own posts."""
    if is_ours(source):
        return internal_report(source, target, exact), True
    return fetch_report(fetch, source, target, exact, microformats), False


def from_source(
    post: Post,
    source: str,
    report: SourceReport,
    kind: str,
    internal: bool,
    sender: Sender = Sender(),
) -> NewResponse:
    """The response ``report`` describes, as plain values."""
    host = urlsplit(source).hostname or source
    return NewResponse(
        type=kind,
        source_url=source,
        source_title=report.title or host,
        content=report.excerpt,
        author_name=(report.author_name or report.title or host)[:245],
        author_url=(report.author_url or source)[:200],
        created_at=published_at(report.published, post.published_at, utcnow()),
        author_ip=sender.ip,
        user_agent=sender.user_agent,
        internal=internal,
    )


def published_at(
    value: str, not_before: datetime | None, now: datetime
) -> datetime | None:
    """An h-entry's ``published`` as naive UTC; None when unreadable or unlikely.

    The date is the source's claim, believed only between the post's own
    publication and now: a response cannot pin itself to either end of the list.
    """
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, AttributeError, OverflowError):  # or past year 1 in UTC
        return None
    if moment > now or (not_before is not None and moment < not_before):
        return None
    return moment


def store_response(
    post: Post,
    source: str,
    report: SourceReport,
    kind: str,
    sender: Sender,
    internal: bool,
) -> Comment:
    """Store a new ping through the moderation decision (commits); a twin
    stored meanwhile by a simultaneous request is refused as registered."""
    new = from_source(post, source, report, kind, internal, sender)
    try:
        return add_response(post, new, current_settings())
    except IntegrityError:  # the unique (post, source): rolled back already
        raise PingRejected(ALREADY_REGISTERED, "Il ping è già registrato.") from None


def refresh_response(
    comment: Comment, source: str, report: SourceReport, internal: bool
) -> None:
    """Update a stored ping from its source, moderated again if it changed
    (commits)."""
    new = from_source(comment.post, source, report, comment.type, internal)
    update_response(comment, new, current_settings())


def receive_pingback(
    source: object, target: object, sender: Sender, fetch: Fetch
) -> Comment:
    """Verify and store a pingback; raises PingRejected with the fault code."""
    if over_address_limit(sender.ip):
        raise PingRejected(ACCESS_DENIED, "Troppi ping: riprova più tardi.")
    source, target = check_urls(source, target)
    post = pingable_post(target)
    if over_target_limit(post):
        raise PingRejected(ACCESS_DENIED, "Troppi ping: riprova più tardi.")
    if existing_response(post.id, source) is not None:
        raise PingRejected(ALREADY_REGISTERED, "Il pingback è già registrato.")
    report, internal = read_source(fetch, source, target, exact=False)
    if existing_response(post.id, source) is not None:
        raise PingRejected(ALREADY_REGISTERED, "Il pingback è già registrato.")
    return store_response(post, source, report, "pingback", sender, internal)


def approved_pingbacks(target: object) -> list[str]:
    """Source URLs of the approved pingbacks of the post at ``target``."""
    if not is_web_url(target):
        raise PingRejected(TARGET_MISSING, "L'URL di destinazione non è valido.")
    assert isinstance(target, str)
    if not is_ours(target):
        raise PingRejected(TARGET_INVALID, "La destinazione non è su questo sito.")
    match = match_target(target)
    if match.post is None:
        raise PingRejected(TARGET_MISSING, "La destinazione non esiste.")
    return list(
        db.session.scalars(
            select(Comment.source_url)
            .where(
                Comment.post_id == match.post.id,
                Comment.type == "pingback",
                Comment.status == "approved",
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )
