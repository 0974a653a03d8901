"""Finding where a page wants to be pinged: webmention first, then pingback.

Follows the Webmention discovery rules (HTTP ``Link`` header, then the first
``<link>`` or ``<a>`` with ``rel=webmention`` in document order, relative URLs
resolved against the page's final URL, an empty href meaning the page itself),
then Pingback's (``X-Pingback`` header, then ``<link rel="pingback">``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import Tag

from ..net.client import Response
from .verify import parse_html


@dataclass(frozen=True)
class Endpoint:
    method: str  # webmention | pingback
    url: str


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts, current, quoted, bracketed = [], [], False, False
    for char in text:
        if char == '"' and not bracketed:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracketed = True
        elif char == ">" and not quoted:
            bracketed = False
        if char == separator and not quoted and not bracketed:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_link_header(values: list[str]) -> list[tuple[str, set[str]]]:
    """(URL reference, rel values) for every link in ``Link`` header values."""
    links = []
    for value in values:
        for item in _split_outside_quotes(value, ","):
            item = item.strip()
            if not item.startswith("<") or ">" not in item:
                continue
            reference, params = item[1:].split(">", 1)
            rels: set[str] = set()
            for param in _split_outside_quotes(params, ";"):
                name, _, raw = param.partition("=")
                if name.strip().lower() == "rel":
                    rels.update(raw.strip().strip('"').lower().split())
            links.append((reference.strip(), rels))
    return links


def _has_rel(element: Tag, rel: str) -> bool:
    values = element.get("rel") or []
    if isinstance(values, str):
        values = values.split()
    return rel in (value.lower() for value in values)


def discover(response: Response) -> Endpoint | None:
    """The endpoint a fetched page advertises, or None."""
    page = response.url
    for reference, rels in parse_link_header(response.headers.get_all("Link") or []):
        if "webmention" in rels:
            return Endpoint("webmention", urljoin(page, reference))
    soup = parse_html(response.body, response.charset) if response.is_html else None
    if soup is not None:
        for element in soup.find_all(["link", "a"], href=True):
            if _has_rel(element, "webmention"):
                # Spaces around an href are no part of it (the URL standard).
                href = str(element["href"]).strip()
                return Endpoint("webmention", urljoin(page, href))
    pingback = response.headers.get("X-Pingback")
    if pingback and pingback.strip():
        return Endpoint("pingback", urljoin(page, pingback.strip()))
    if soup is not None:
        for element in soup.find_all("link", href=True):
            href = str(element["href"]).strip()
            if _has_rel(element, "pingback") and href:
                return Endpoint("pingback", urljoin(page, href))
    return None
