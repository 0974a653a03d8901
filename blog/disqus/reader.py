"""Parse a Disqus export (``<disqus xmlns="http://disqus.com">``) into records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO
from xml.etree.ElementTree import Element

from ..core.xmlsafe import parse_export

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"


class DisqusError(ValueError):
    """The file is not a Disqus export this importer understands."""


@dataclass(frozen=True)
class DisqusThread:
    dsq_id: str
    link: str
    title: str


@dataclass(frozen=True)
class DisqusPost:
    dsq_id: str
    thread_id: str
    parent_id: str  # "" for a top-level comment
    message: str
    created_at: datetime
    author_name: str
    author_email: str
    author_username: str  # a Disqus account's; guests have none
    anonymous: bool
    deleted: bool
    spam: bool
    ip_address: str


@dataclass(frozen=True)
class DisqusExport:
    threads: list[DisqusThread]
    posts: list[DisqusPost]


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _true(element: Element, path: str) -> bool:
    return _text(element, path).lower() == "true"


def _ref(element: Element, name: str) -> str:
    found = element.find(NS + name)
    return found.get(DSQ_ID, "") if found is not None else ""


def parse_date(value: str) -> datetime | None:
    """Disqus's ``2011-02-03T10:00:00Z`` as naive UTC, None when unreadable."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # past the calendar's ends once in UTC
        return None
    return moment


def _post(element: Element) -> DisqusPost:
    dsq_id = element.get(DSQ_ID, "")
    created = parse_date(_text(element, NS + "createdAt"))
    if not dsq_id or created is None:
        raise DisqusError(f"A post without an id or a date: {dsq_id or '?'}")
    author = NS + "author/" + NS
    return DisqusPost(
        dsq_id=dsq_id,
        thread_id=_ref(element, "thread"),
        parent_id=_ref(element, "parent"),
        message=_text(element, NS + "message"),
        created_at=created,
        author_name=_text(element, author + "name"),
        author_email=_text(element, author + "email"),
        author_username=_text(element, author + "username"),
        anonymous=_true(element, author + "isAnonymous"),
        deleted=_true(element, NS + "isDeleted"),
        spam=_true(element, NS + "isSpam"),
        ip_address=_text(element, NS + "ipAddress"),
    )


def read_disqus(source: str | IO[bytes]) -> DisqusExport:
    """Parse a whole Disqus export (a path or a binary file), or raise DisqusError."""
    root = parse_export(source, DisqusError)
    if root.tag != NS + "disqus":
        raise DisqusError("Not a Disqus export: the root is not <disqus>.")
    threads = [
        DisqusThread(
            dsq_id=element.get(DSQ_ID, ""),
            link=_text(element, NS + "link"),
            title=_text(element, NS + "title"),
        )
        for element in root.findall(NS + "thread")
    ]
    return DisqusExport(threads, [_post(e) for e in root.findall(NS + "post")])
