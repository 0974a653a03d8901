"""What happens to a new comment or ping: refused, spam, held, or approved.

Refusing (the request fails with a message) is kept apart from deciding the
status of what is accepted, as django-contrib-comments' moderator does. Both are
plain functions over plain values, so every rule is tested directly.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from ..core.settings import CommentSettings
from ..core.text import normalised_email

DUPLICATE_MESSAGE = "Commento duplicato: sembra che tu l'abbia già scritto!"
FLOOD_MESSAGE = (
    "Hai appena inviato un commento: aspetta qualche secondo prima di inviarne "
    "un altro."
)
TOO_FAST_MESSAGE = (
    "Il commento è stato inviato pochi secondi dopo l'apertura della pagina, più "
    "in fretta di quanto scriva di solito una persona: rileggilo e invialo di "
    "nuovo."
)
CLOSED_MESSAGE = "I commenti per questo articolo sono chiusi."
REPLY_MISSING_MESSAGE = (
    "Il commento a cui vuoi rispondere non esiste o non è ancora stato approvato."
)
REPLY_OTHER_POST_MESSAGE = (
    "Il commento a cui vuoi rispondere appartiene a un altro articolo."
)
REPLY_TOO_DEEP_MESSAGE = (
    "Non è possibile rispondere a questo commento: "
    "la discussione ha raggiunto la profondità massima."
)


@dataclass(frozen=True)
class Candidate:
    """What the moderation rules read of a response about to be stored: plain
    values, no row and no request, so ``refuse`` and ``decide`` are tested
    without either."""

    content: str
    content_html: str = ""
    type: str = "comment"
    author_name: str = ""
    author_email: str = ""
    author_url: str = ""
    author_ip: str = ""
    user_agent: str = ""
    by_author: bool = False  # the signed-in author wrote it
    internal: bool = False  # a ping from one of our own posts
    honeypot: str = ""
    seconds_to_submit: float | None = None  # form render to submission


def candidate_from(response: object, **extra: object) -> Candidate:
    """The candidate for a response built but not stored yet (a ``Comment``, or
    anything with its fields), with the request-only facts in ``extra``."""
    return Candidate(
        content=response.content or "",
        # None before the text is cleaned (a ``NewResponse``: the refusals).
        content_html=getattr(response, "content_html", None) or "",
        type=response.type or "comment",
        author_name=response.author_name or "",
        author_email=response.author_email or "",
        author_url=response.author_url or "",
        author_ip=response.author_ip or "",
        user_agent=response.user_agent or "",
        **extra,
    )


@dataclass(frozen=True)
class History:
    """What the database knows about this candidate's sender."""

    duplicate: bool = False
    seconds_since_last: float | None = None  # same IP or email, any post
    proven_known: bool = False  # holds a token of an earlier approved comment
    # Why the author's blocklist names this sender ('' when it does not); None
    # while the blocklist has not been asked.
    blocked: str | None = None


@dataclass(frozen=True)
class Parent:
    """The comment a reply answers, as plain values."""

    post_id: int
    status: str
    depth: int
    type: str = "comment"  # pingbacks and webmentions take no public replies


def parent_values(comment: object) -> Parent:
    """The ``Parent`` for a stored response (a ``Comment``, or anything alike)."""
    return Parent(comment.post_id, comment.status, comment.depth, comment.type)


# ``seconds_to_submit`` of a form we never rendered (no genuine stamp).
FORGED_STAMP = -1.0


@dataclass(frozen=True)
class Refusal:
    status_code: int
    message: str
    retry_after: int | None = None  # seconds, for a 429's Retry-After
    # Time ran out while the writer typed (edit window closed, a reply came):
    # their text may be given back to them, unlike to another browser.
    late: bool = False


@dataclass(frozen=True)
class Decision:
    status: str  # approved | pending | spam
    reason: str


def comments_closed(
    comment_status: str,
    published_at: datetime | None,
    settings: CommentSettings,
    now: datetime,
) -> bool:
    """Whether a post takes no new comments (closed by hand or by age)."""
    if comment_status != "open":
        return True
    closes = closing_time(comment_status, published_at, settings)
    return closes is not None and now > closes


def closing_time(
    comment_status: str, published_at: datetime | None, settings: CommentSettings
) -> datetime | None:
    """When an open post stops taking comments by its age; None when no age
    closes it (closed by hand, no limit set, never published)."""
    if comment_status != "open" or not settings.close_after_days:
        return None
    if published_at is None:
        return None
    try:
        return published_at + timedelta(days=settings.close_after_days)
    except OverflowError:  # dated at the calendar's end: it never closes
        return None


def refuse(
    candidate: Candidate, history: History, settings: CommentSettings
) -> Refusal | None:
    """The reason to turn the request away, or None when it may be stored."""
    if history.duplicate:
        return Refusal(409, DUPLICATE_MESSAGE)
    # A person who types fast (a short "Grazie!" in a form filled in from the
    # saved details) is told and sends again; the form keeps its first stamp.
    seconds = candidate.seconds_to_submit
    if (
        not candidate.by_author
        and not candidate.honeypot  # a robot's: to spam, never told
        and seconds is not None
        and 0 <= seconds < settings.min_seconds
    ):
        return Refusal(422, TOO_FAST_MESSAGE)
    # Only the comment form comes here: pings have their own limits per source.
    if (
        not candidate.by_author
        and settings.flood_seconds > 0  # 0 turns the rule off
        and history.seconds_since_last is not None
        and history.seconds_since_last < settings.flood_seconds
    ):
        # The seconds left in the window; a clock a little behind (another
        # worker's) cannot make it longer than the window itself.
        wait = math.ceil(settings.flood_seconds - history.seconds_since_last)
        return Refusal(
            429, FLOOD_MESSAGE, retry_after=min(max(wait, 1), settings.flood_seconds)
        )
    return None


def refuse_reply(
    parent: Parent | None, post_id: int, settings: CommentSettings
) -> Refusal | None:
    """Why a reply to ``parent`` cannot be stored on post ``post_id``, or None."""
    if parent is None or parent.status != "approved" or parent.type != "comment":
        return Refusal(422, REPLY_MISSING_MESSAGE)
    if parent.post_id != post_id:
        return Refusal(422, REPLY_OTHER_POST_MESSAGE)
    if parent.depth >= settings.thread_depth:
        return Refusal(422, REPLY_TOO_DEEP_MESSAGE)
    return None


_LINK = re.compile(r"<a\s", re.IGNORECASE)


def count_links(content_html: str) -> int:
    """Links in the sanitised HTML, bare URLs included (they were linkified)."""
    return len(_LINK.findall(content_html))


def _first_match(words: tuple[str, ...], candidate: Candidate) -> str | None:
    haystacks = [
        candidate.content.lower(),
        candidate.author_name.lower(),
        candidate.author_email.lower(),
        candidate.author_url.lower(),
        candidate.author_ip.lower(),
        candidate.user_agent.lower(),
    ]
    for word in words:
        if any(word in haystack for haystack in haystacks):
            return word
    return None


def _shortened(word: str, length: int = 60) -> str:
    # A "word" of the author's lists may be a whole sentence: the reason names
    # enough of it to be recognised, and fits its column.
    return word if len(word) <= length else word[: length - 1] + "…"


def decide(
    candidate: Candidate, history: History, settings: CommentSettings
) -> Decision:
    """The status a new response is stored with, and the rule that chose it."""
    if candidate.by_author:
        return Decision("approved", "scritto dall'autore")
    if candidate.internal:
        return Decision("approved", "collegamento da un articolo del blog")
    if history.blocked:
        return Decision("spam", history.blocked)
    word = _first_match(settings.disallowed_words, candidate)
    if word:
        return Decision("spam", f"parola non consentita: «{_shortened(word)}»")
    if candidate.type == "comment":
        if candidate.honeypot:
            return Decision("spam", "campo trappola compilato")
        seconds = candidate.seconds_to_submit
        # Part of the too-fast rule: COMMENT_MIN_SECONDS=0 turns both off.
        if settings.min_seconds > 0 and seconds == FORGED_STAMP:
            return Decision("spam", "modulo non generato dal blog (timbro mancante)")
    links = count_links(candidate.content_html)
    if links > settings.max_links:
        return Decision("pending", f"{links} link (limite {settings.max_links})")
    word = _first_match(settings.moderation_words, candidate)
    if word:
        return Decision("pending", f"parola da moderare: «{_shortened(word)}»")
    if not settings.hold_all:
        return Decision("approved", "approvazione automatica")
    if settings.auto_approve_known and history.proven_known:
        return Decision("approved", "commentatore già approvato")
    return Decision("pending", "in attesa di approvazione")


# --- the author's blocklist -------------------------------------------------

BLOCKED_REASON = "indirizzo bloccato"
# A domain block covers its subdomains; so many labels are looked at at most.
_MAX_DOMAIN_SUFFIXES = 4


def block_host(url: str) -> str:
    """The domain a website or source URL is blocked by ('' when it has none)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def block_address(ip: str) -> str:
    """An address as a block stores it ('' when it is none)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    # An IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is that IPv4
    # address: its "/64" would hold every IPv4 client.
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def block_network(ip: str) -> str:
    """The network an address's neighbours share: its /24, or /64 for IPv6."""
    address = block_address(ip)
    if not address:
        return ""
    prefix = 24 if ipaddress.ip_address(address).version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _domain_and_parents(host: str) -> list[str]:
    if _is_address(host):
        return [host]
    labels = host.split(".")
    # "spam.example.org" is matched by a block of itself or of "example.org",
    # never of "org" alone.
    names = [".".join(labels[i:]) for i in range(max(len(labels) - 1, 1))]
    # The host itself (what a block from the queue stores) and its shortest
    # parents: a long chain of subdomains adds no look-ups.
    return names[:1] + names[1:][-(_MAX_DOMAIN_SUFFIXES - 1) :]


def block_keys(email: str, urls: Iterable[str | None], ip: str) -> set[tuple[str, str]]:
    """Every (kind, value) a block could name this sender by: a handful, so the
    blocklist is asked with one indexed look-up, whatever its size."""
    return email_keys(email) | url_keys(urls) | address_keys(ip)


def email_keys(email: str) -> set[tuple[str, str]]:
    """The keys of an email address: itself, and its domain and parents."""
    if not email.strip():
        return set()
    address = normalised_email(email)
    keys = {("email", address)}
    if mail_domain(address):
        # A wave from one mail domain: each message from a new address there.
        keys.update(
            ("mailhost", name) for name in _domain_and_parents(mail_domain(address))
        )
    return keys


def mail_domain(address: str) -> str:
    """The domain of a normalised address; '' without a name and a domain
    (an imported comment's "email" may be any text)."""
    local, at, domain = address.rpartition("@")
    return domain if at and local and domain else ""


def url_keys(urls: Iterable[str | None]) -> set[tuple[str, str]]:
    """The keys of a website or source: each host and its parents."""
    keys: set[tuple[str, str]] = set()
    for url in urls:
        host = block_host(url or "")
        if host:
            keys.update(("domain", name) for name in _domain_and_parents(host))
    return keys


@lru_cache(maxsize=4096)  # four parsings of the address, for each comment
def address_keys(ip: str) -> frozenset[tuple[str, str]]:
    """The keys of an IP address: itself and its network."""
    address = block_address(ip)
    if not address:
        return frozenset()
    return frozenset({("ip", address), ("network", block_network(address))})


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def blocked_reason(
    keys: set[tuple[str, str]], blocks: Iterable[tuple[str, str]]
) -> str:
    """The queue's reason when one of ``blocks`` (kind, value) names a key, or ''."""
    for kind, value in sorted(blocks):
        if (kind, value) in keys:
            return f"{BLOCKED_REASON} ({BLOCK_LABELS[kind]} {value})"
    return ""


BLOCK_LABELS = {
    "email": "email",
    "mailhost": "dominio email",
    "domain": "dominio",
    "ip": "IP",
    "network": "rete",
}
