"""Feed documents from plain data: no Flask, no database."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from ..core.text import strip_controls

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
GENERATOR = "nOwmedia blog"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class FeedItem:
    """One entry: a post or a response."""

    title: str
    link: str
    guid: str
    published: datetime
    author: str
    summary: str = ""
    content_html: str = ""
    updated: datetime | None = None
    categories: list[str] = field(default_factory=list)

    @property
    def changed(self) -> datetime:
        """When the entry last changed: never before it was published (a post
        dated a few minutes ahead was saved before its date)."""
        return max(self.updated, self.published) if self.updated else self.published


@dataclass
class Feed:
    """The channel: what the feed is about and where it lives."""

    title: str
    link: str
    self_url: str
    description: str
    items: list[FeedItem]
    language: str = "it-IT"


def _utc(value: datetime) -> datetime:
    # Stored datetimes are naive UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _rfc822(value: datetime) -> str:
    return format_datetime(_utc(value))


def _rfc3339(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def _last_change(feed: Feed) -> datetime:
    dates = [item.changed for item in feed.items]
    return max(dates) if dates else datetime(1970, 1, 1)


def _text(parent: ET.Element, tag: str, value: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = strip_controls(value)
    return element


def _serialize(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def rss(feed: Feed) -> bytes:
    """The feed as an RSS 2.0 document (UTF-8 bytes)."""
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("content", CONTENT_NS)
    ET.register_namespace("dc", DC_NS)
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", feed.title)
    _text(channel, "link", feed.link)
    _text(channel, "description", feed.description)
    _text(channel, "language", feed.language)
    _text(channel, "lastBuildDate", _rfc822(_last_change(feed)))
    _text(channel, "generator", GENERATOR)
    ET.SubElement(
        channel,
        f"{{{ATOM_NS}}}link",
        {"href": feed.self_url, "rel": "self", "type": "application/rss+xml"},
    )
    for item in feed.items:
        entry = ET.SubElement(channel, "item")
        _text(entry, "title", item.title)
        _text(entry, "link", item.link)
        _text(entry, "guid", item.guid, isPermaLink="false")
        _text(entry, "pubDate", _rfc822(item.published))
        _text(entry, f"{{{DC_NS}}}creator", item.author)
        for category in item.categories:
            _text(entry, "category", category)
        # RSS's description is HTML: the plain summary is escaped once more, or
        # a reader's literal "<img onerror=…>" would reach feed readers as markup.
        _text(entry, "description", escape(item.summary))
        if item.content_html:
            _text(entry, f"{{{CONTENT_NS}}}encoded", item.content_html)
    return _serialize(root)


def atom(feed: Feed) -> bytes:
    """The feed as an Atom 1.0 document (UTF-8 bytes)."""
    ET.register_namespace("", ATOM_NS)

    def tag(name: str) -> str:
        return f"{{{ATOM_NS}}}{name}"

    root = ET.Element(tag("feed"), {XML_LANG: feed.language})
    _text(root, tag("title"), feed.title)
    _text(root, tag("subtitle"), feed.description)
    _text(root, tag("id"), feed.self_url)
    _text(root, tag("updated"), _rfc3339(_last_change(feed)))
    _text(root, tag("generator"), GENERATOR)
    ET.SubElement(root, tag("link"), {"href": feed.link, "rel": "alternate"})
    ET.SubElement(root, tag("link"), {"href": feed.self_url, "rel": "self"})
    for item in feed.items:
        entry = ET.SubElement(root, tag("entry"))
        _text(entry, tag("title"), item.title)
        ET.SubElement(entry, tag("link"), {"href": item.link, "rel": "alternate"})
        _text(entry, tag("id"), item.guid)
        _text(entry, tag("published"), _rfc3339(item.published))
        _text(entry, tag("updated"), _rfc3339(item.changed))
        author = ET.SubElement(entry, tag("author"))
        _text(author, tag("name"), item.author)
        for category in item.categories:
            ET.SubElement(entry, tag("category"), {"term": category})
        _text(entry, tag("summary"), item.summary)
        if item.content_html:
            _text(entry, tag("content"), item.content_html, type="html")
    return _serialize(root)
