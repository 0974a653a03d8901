"""Parse a WordPress export (WXR 1.0-1.2) into plain records, safely.

defusedxml refuses DTDs and entity declarations, so a hostile file cannot expand
entities or reach local files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from ..core.localtime import utc_time
from ..core.text import row_id
from ..core.xmlsafe import parse_export

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
# WordPress has always written http://; some tools write https://.
_WP_NS = re.compile(r"^\{(https?://wordpress\.org/export/1\.\d/)\}")
NO_DATE = "0000-00-00 00:00:00"
# Custom fields this blog's own export writes (``writer``): a post's addresses
# from before it, and a comment's id from before it.
OLD_ADDRESS = "_blog_old_address"
OLD_COMMENT_ID = "_blog_old_comment_id"
# WordPress's own: a slug the post had before (wp_old_slug_redirect reads it).
OLD_SLUG = "_wp_old_slug"


class WXRError(ValueError):
    """The file is not a WordPress export this importer understands."""


@dataclass
class WxrAuthor:
    wp_id: int
    login: str
    email: str
    display_name: str


@dataclass
class WxrCategory:
    slug: str
    name: str


@dataclass
class WxrComment:
    wp_id: int
    parent_wp_id: int
    author_name: str
    author_email: str
    author_url: str
    author_ip: str
    created_at: datetime
    content: str
    approved: str
    type: str
    user_id: int
    old_id: int = 0  # its id before the blog that exported it (OLD_COMMENT_ID)


@dataclass
class WxrPost:
    wp_id: int
    title: str
    slug: str
    creator: str
    content: str
    excerpt: str
    published_at: datetime | None
    modified_at: datetime | None
    status: str
    post_type: str
    comment_status: str
    ping_status: str
    categories: list[WxrCategory] = field(default_factory=list)
    comments: list[WxrComment] = field(default_factory=list)
    # The old addresses: the permalink and the guid (``?p=ID``) (#15).
    link: str = ""
    guid: str = ""
    tags: list[WxrCategory] = field(default_factory=list)
    password: str = ""
    old_paths: list[str] = field(default_factory=list)  # OLD_ADDRESS fields
    parent_id: int = 0  # an attachment's post, a page's parent page
    menu_order: int = 0  # a page's place in the menu
    attachment_url: str = ""  # an attachment's file
    old_slugs: list[str] = field(default_factory=list)  # OLD_SLUG fields


@dataclass
class WxrSite:
    title: str
    link: str
    authors: list[WxrAuthor]
    categories: list[WxrCategory]
    posts: list[WxrPost]
    tags: list[WxrCategory] = field(default_factory=list)


def _int(value: str) -> int:
    """An id or an order, 0 (missing) for anything but a number that fits
    the database's integer columns."""
    return row_id(value) or 0


def parse_date(gmt: str, local: str = "") -> datetime | None:
    """WordPress ``YYYY-MM-DD HH:MM:SS`` as naive UTC: the GMT one, else the
    local one (a draft's GMT date is 0000-00-00) read in the blog's zone, the
    best guess at the old blog's."""
    for value, in_utc in ((gmt.strip(), True), (local.strip(), False)):
        if value and value != NO_DATE:
            try:
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            return moment if in_utc else utc_time(moment)
    return None


class _Reader:
    """Finds wp:, content:, dc: children whatever the WXR version."""

    def __init__(self, wp_ns: str) -> None:
        self.wp = wp_ns
        self.excerpt = wp_ns + "excerpt/"

    def text(self, element: Element, name: str) -> str:
        prefix, _, local = name.partition(":")
        namespace = {
            "wp": self.wp,
            "excerpt": self.excerpt,
            "content": CONTENT_NS,
            "dc": DC_NS,
        }.get(prefix)
        tag = f"{{{namespace}}}{local}" if namespace else name
        found = element.find(tag)
        return (found.text or "") if found is not None else ""

    def wp_children(self, element: Element, local: str) -> list[Element]:
        return element.findall(f"{{{self.wp}}}{local}")


def _category(reader: _Reader, element: Element) -> WxrCategory:
    nicename = unquote(reader.text(element, "wp:category_nicename")).strip()
    name = reader.text(element, "wp:cat_name").strip()
    return WxrCategory(slug=nicename, name=name or nicename)


def _tag(reader: _Reader, element: Element) -> WxrCategory:
    slug = unquote(reader.text(element, "wp:tag_slug")).strip()
    name = reader.text(element, "wp:tag_name").strip()
    return WxrCategory(slug=slug, name=name or slug)


def _comment(
    reader: _Reader, element: Element, post_date: datetime | None
) -> WxrComment | None:
    # A comment WordPress kept without a date ("0000-00-00") takes its post's.
    created = (
        parse_date(
            reader.text(element, "wp:comment_date_gmt"),
            reader.text(element, "wp:comment_date"),
        )
        or post_date
    )
    if created is None:
        return None
    return WxrComment(
        wp_id=_int(reader.text(element, "wp:comment_id")),
        parent_wp_id=_int(reader.text(element, "wp:comment_parent")),
        author_name=reader.text(element, "wp:comment_author").strip(),
        author_email=reader.text(element, "wp:comment_author_email").strip(),
        author_url=reader.text(element, "wp:comment_author_url").strip(),
        author_ip=reader.text(element, "wp:comment_author_IP").strip(),
        created_at=created,
        content=reader.text(element, "wp:comment_content"),
        approved=reader.text(element, "wp:comment_approved").strip(),
        type=reader.text(element, "wp:comment_type").strip(),
        user_id=_int(reader.text(element, "wp:comment_user_id")),
        old_id=_first_int(_meta(reader, element, "commentmeta", OLD_COMMENT_ID)),
    )


def _meta(reader: _Reader, element: Element, kind: str, key: str) -> list[str]:
    """The values of ``element``'s custom fields named ``key``."""
    return [
        reader.text(meta, "wp:meta_value")
        for meta in reader.wp_children(element, kind)
        if reader.text(meta, "wp:meta_key") == key
    ]


def _first_int(values: list[str]) -> int:
    return _int(values[0]) if values else 0


def _terms(item: Element, domain: str) -> list[WxrCategory]:
    # As WordPress reads them: only with a nicename (WXR 1.0 wrote each term
    # twice, once without one).
    return [
        WxrCategory(slug=unquote(c.get("nicename", "")), name=(c.text or "").strip())
        for c in item.findall("category")
        if c.get("domain") == domain and c.get("nicename") is not None
    ]


def _post(reader: _Reader, item: Element) -> WxrPost:
    categories = _terms(item, "category")
    published = parse_date(
        reader.text(item, "wp:post_date_gmt"), reader.text(item, "wp:post_date")
    )
    comments = [
        comment
        for element in reader.wp_children(item, "comment")
        if (comment := _comment(reader, element, published)) is not None
    ]
    return WxrPost(
        wp_id=_int(reader.text(item, "wp:post_id")),
        title=reader.text(item, "title").strip(),
        slug=unquote(reader.text(item, "wp:post_name")).strip(),
        creator=reader.text(item, "dc:creator").strip(),
        content=reader.text(item, "content:encoded"),
        excerpt=reader.text(item, "excerpt:encoded"),
        published_at=published,
        modified_at=parse_date(
            reader.text(item, "wp:post_modified_gmt"),
            reader.text(item, "wp:post_modified"),
        ),
        status=reader.text(item, "wp:status").strip(),
        post_type=reader.text(item, "wp:post_type").strip() or "post",
        comment_status=reader.text(item, "wp:comment_status").strip() or "open",
        ping_status=reader.text(item, "wp:ping_status").strip() or "open",
        categories=categories,
        comments=comments,
        link=reader.text(item, "link").strip(),
        guid=reader.text(item, "guid").strip(),
        # WXR 1.0 wrote tags with the domain "tag".
        tags=_terms(item, "post_tag") + _terms(item, "tag"),
        password=reader.text(item, "wp:post_password"),
        old_paths=_meta(reader, item, "postmeta", OLD_ADDRESS),
        parent_id=_int(reader.text(item, "wp:post_parent")),
        menu_order=_int(reader.text(item, "wp:menu_order")),
        attachment_url=reader.text(item, "wp:attachment_url").strip(),
        old_slugs=[slug.strip() for slug in _meta(reader, item, "postmeta", OLD_SLUG)],
    )


def read_wxr(source: str | IO[bytes]) -> WxrSite:
    """Parse a WXR file (a path or a binary file object)."""
    root = parse_export(source, WXRError)
    channel = root.find("channel")
    wp_ns = next(
        (m.group(1) for el in root.iter() if (m := _WP_NS.match(str(el.tag)))), None
    )
    if root.tag != "rss" or channel is None or wp_ns is None:
        raise WXRError("Not a WordPress export (WXR): no rss/channel with wp: data.")
    reader = _Reader(wp_ns)
    authors = [
        WxrAuthor(
            wp_id=_int(reader.text(a, "wp:author_id")),
            login=reader.text(a, "wp:author_login").strip(),
            email=reader.text(a, "wp:author_email").strip(),
            display_name=reader.text(a, "wp:author_display_name").strip(),
        )
        for a in reader.wp_children(channel, "author")
    ]
    return WxrSite(
        title=reader.text(channel, "title").strip(),
        link=reader.text(channel, "link").strip(),
        authors=authors,
        categories=[
            _category(reader, c) for c in reader.wp_children(channel, "category")
        ],
        posts=[_post(reader, item) for item in channel.findall("item")],
        tags=[_tag(reader, t) for t in reader.wp_children(channel, "tag")],
    )
