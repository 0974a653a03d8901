"""Reading a source page: does it link to the target, with what title and excerpt.

Pure functions over bytes already fetched by ``blog.outbound``; the page is
parsed once with a real HTML parser, and mf2py reads that same document (it is
never given the chance to fetch anything).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import mf2py
from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, PreformattedString

from ..core.text import strip_display_controls, web_url_or_empty
from .targets import normalise_url

EXCERPT_CHARS = 100
TITLE_CHARS = 300
# Elements whose URL attribute counts as a webmention link.
WEBMENTION_LINKS = {"a": "href", "img": "src", "video": "src", "audio": "src"}
BLOCKS = frozenset(
    "p div li blockquote section article main body td th dd dt pre figure "
    "figcaption h1 h2 h3 h4 h5 h6 header footer aside".split()
)
_SPACES = re.compile(r"\s+")


def squash(text: str) -> str:
    """Collapse runs of white space to single spaces and trim; no control
    characters (a source's NUL, or a bidirectional override turning the
    reader's line around)."""
    return _SPACES.sub(" ", strip_display_controls(text)).strip()


@dataclass(frozen=True)
class SourceReport:
    """What a source page says about its link to the target."""

    title: str
    excerpt: str
    author_name: str = ""
    author_url: str = ""
    published: str = ""


def parse_html(body: bytes | str, charset: str | None = None) -> BeautifulSoup:
    """Parse a page with the standard library's HTML parser through BeautifulSoup."""
    if isinstance(body, str):
        return BeautifulSoup(body, "html.parser")
    return BeautifulSoup(body, "html.parser", from_encoding=charset)


def base_url(soup: BeautifulSoup, page_url: str) -> str:
    """The URL relative links resolve against (``<base href>`` when present)."""
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        return urljoin(page_url, str(base["href"]).strip())
    return page_url


# Elements whose content a browser shows as text, or not at all: Python's
# parser reads tags inside them, but no reader sees a link there.
_NOT_MARKUP = ["textarea", "title", "xmp", "template", "noembed", "noframes"]


def _inside_text_only(element: Tag, known: dict[int, bool]) -> bool:
    # Each ancestor is looked at once for the whole page (``known``): a page of
    # links nested in one another would make a walk per link quadratic.
    walked, node, inside = [], element.parent, False
    while node is not None:
        if id(node) in known:
            inside = known[id(node)]
            break
        if node.name in _NOT_MARKUP:
            inside = True
            break
        walked.append(node)
        node = node.parent
    for node in walked:
        known[id(node)] = inside
    return inside


# What a source must link to: a URL, or a test of each link's resolved URL.
LinkTarget = str | Callable[[str], bool]


def find_link(
    soup: BeautifulSoup, page_url: str, target: LinkTarget, exact: bool
) -> Tag | None:
    """The first element linking to ``target``.

    An ``a``, ``img``, ``video`` or ``audio`` whose resolved URL is the target
    itself (``exact``: a webmention), or the target up to scheme, trailing slash
    and fragment (a pingback), or one that ``target``, a test, accepts.
    """
    matches = target if callable(target) else _link_test(target, exact)
    base = base_url(soup, page_url)
    shown_as_text: dict[int, bool] = {}
    for element in soup.find_all(list(WEBMENTION_LINKS)):
        raw = element.get(WEBMENTION_LINKS[element.name])
        if not raw or _inside_text_only(element, shown_as_text):
            continue
        if matches(urljoin(base, str(raw).strip())):
            return element
    return None


def _link_test(target: str, exact: bool) -> Callable[[str], bool]:
    if exact:
        return lambda url: url == target
    wanted = normalise_url(target)
    return lambda url: normalise_url(url) == wanted


def _trim(text: str, size: int, from_end: bool) -> str:
    if len(text) <= size:
        return text
    cut = text[-size:] if from_end else text[:size]
    # Drop the word cut in half.
    return cut.split(" ", 1)[-1] if from_end else cut.rsplit(" ", 1)[0]


def _last_descendant(element: Tag) -> object:
    node: object = element
    while isinstance(node, Tag) and node.contents:
        node = node.contents[-1]
    return node


def _text_beside(link: Tag, block: Tag, size: int, forward: bool) -> str:
    """The text a reader sees beside ``link`` inside ``block``, about ``size``
    characters of it, nearest first; only the nodes needed are visited."""
    pieces: list[str] = []
    seen = 0
    end = _last_descendant(block)
    nodes = _last_descendant(link).next_elements if forward else link.previous_elements
    if forward and _last_descendant(link) is end:
        nodes = iter(())
    for node in nodes:
        if not forward and node is block:
            break
        if isinstance(node, Tag):
            if node.name in BLOCKS or node.name == "br":
                pieces.append(" ")
        elif (
            isinstance(node, NavigableString)
            and not isinstance(node, PreformattedString)
            and node.parent is not None
            and node.parent.name not in ("script", "style", "template")
        ):
            pieces.append(str(node))
            seen += len(squash(node))
            if seen > size:
                break
        if forward and node is end:
            break
    return "".join(pieces if forward else reversed(pieces))


def excerpt_around(link: Tag, size: int = EXCERPT_CHARS) -> str:
    """About ``size`` characters of text around the link, the link text included,
    spaced and punctuated as a reader reads them."""
    block = link
    while block.parent is not None and block.name not in BLOCKS:
        block = block.parent
    inside = squash(link.get_text())
    side = max(0, (size - len(inside)) // 2)
    # Without controls: the two markers below must be the only ones.
    before = strip_display_controls(_text_beside(link, block, side, forward=False))
    after = strip_display_controls(_text_beside(link, block, side, forward=True))
    # Squashed together so the spaces around the link are the page's own.
    text = _SPACES.sub(" ", f"{before}\x00{inside}\x01{after}")
    left, rest = text.split("\x00")
    inside, right = rest.split("\x01")
    if len(inside) > size:
        inside = _trim(inside, size, from_end=False)
    return squash(
        _trim(left, side, from_end=True) + inside + _trim(right, side, from_end=False)
    )


def page_title(soup: BeautifulSoup) -> str:
    """The ``<title>``, squashed and shortened, or an empty string."""
    title = soup.find("title")
    return squash(title.get_text())[:TITLE_CHARS] if title else ""


def _first_entry(items: list[dict]) -> dict | None:
    for item in items:
        if "h-entry" in item.get("type", []):
            return item
        found = _first_entry(item.get("children", []))
        if found:
            return found
    return None


def _first(props: dict, name: str) -> object:
    values = props.get(name) or []
    return values[0] if values else None


# Past these, a page's h-entry is not read (its excerpt still is): mf2py
# recurses once per level and slows down with size, and no real post needs more.
MAX_ENTRY_ELEMENTS = 3_000
MAX_ENTRY_DEPTH = 100


def _too_complex(element: Tag) -> bool:
    depths = {id(element): 0}
    count = 0
    for node in element.descendants:  # bs4 walks this without recursion
        if not isinstance(node, Tag):
            continue
        count += 1
        depth = depths[id(node.parent)] + 1
        if count > MAX_ENTRY_ELEMENTS or depth > MAX_ENTRY_DEPTH:
            return True
        depths[id(node)] = depth
    return False


def _entry_of(soup: BeautifulSoup, link: Tag | None) -> Tag | None:
    # The h-entry the link sits in: a page may list other entries (recent
    # posts, replies) before its own. Without one, the page's first.
    if link is not None:
        for parent in link.parents:
            if isinstance(parent, Tag) and "h-entry" in (parent.get("class") or []):
                return parent
    found = soup.find(class_="h-entry")
    return found if isinstance(found, Tag) else None


def read_entry(
    soup: BeautifulSoup, page_url: str, link: Tag | None = None
) -> dict[str, str]:
    """Author name and URL and date of the page's h-entry: the one holding
    ``link`` if any. Its content is not read: what the page shows of a ping,
    and what the author moderates, is the excerpt around the link."""
    element = _entry_of(soup, link)
    if element is None or _too_complex(element):
        return {}
    parsed = mf2py.parse(doc=element, url=page_url, metaformats=False)
    entry = _first_entry(parsed.get("items", []))
    if entry is None:
        return {}
    props = entry.get("properties", {})
    found: dict[str, str] = {}
    author = _first(props, "author")
    if isinstance(author, dict):
        found["author_name"] = str(_first(author.get("properties", {}), "name") or "")
        found["author_url"] = web_url_or_empty(
            str(_first(author.get("properties", {}), "url") or "")
        )
    elif isinstance(author, str):
        found["author_name"] = author
    published = _first(props, "published")
    if isinstance(published, str):
        found["published"] = published
    return {key: squash(value)[:245] for key, value in found.items() if value}


def analyse_source(
    body: bytes | str,
    page_url: str,
    target: LinkTarget,
    exact: bool,
    charset: str | None = None,
    microformats: bool = False,
) -> SourceReport | None:
    """Title, excerpt (and h-entry fields) when the page links to ``target``."""
    soup = parse_html(body, charset)
    link = find_link(soup, page_url, target, exact)
    if link is None:
        return None
    excerpt = excerpt_around(link) if link.name == "a" else ""
    entry = read_entry(soup, page_url, link) if microformats else {}
    return SourceReport(
        title=page_title(soup),
        excerpt=excerpt or page_title(soup),
        author_name=entry.get("author_name", ""),
        author_url=entry.get("author_url", ""),
        published=entry.get("published", ""),
    )
