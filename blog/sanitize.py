"""The one place where user and author markup becomes safe HTML.

``COMMENT_TAGS`` is THE comment whitelist: bleach enforces it and the note under
the comment form is generated from it. Callers use ``clean_comment`` and
``clean_post`` only, so the engine behind them (bleach today, nh3 tomorrow) can
change without touching them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter

COMMENT_TAGS: dict[str, tuple[str, ...]] = {
    "a": ("href", "title"),
    "abbr": ("title",),
    "acronym": ("title",),
    "b": (),
    "blockquote": ("cite",),
    "cite": (),
    "code": (),
    "del": ("datetime",),
    "em": (),
    "i": (),
    "q": ("cite",),
    "strike": (),
    "strong": (),
}

# The author's posts may use more, but never script, style or event handlers.
POST_TAGS: dict[str, tuple[str, ...]] = {
    **COMMENT_TAGS,
    "p": (),
    "br": (),
    "h2": ("id",),
    "h3": ("id",),
    "h4": ("id",),
    "ul": (),
    "ol": ("start",),
    "li": (),
    "img": ("src", "alt", "title", "width", "height"),
    "figure": (),
    "figcaption": (),
    "table": (),
    "thead": (),
    "tbody": (),
    "tr": (),
    "th": ("scope",),
    "td": (),
    "hr": (),
    "pre": (),
    "sup": (),
    "sub": (),
}

PROTOCOLS = frozenset({"http", "https", "mailto"})


def allowed_tags_note(tags: dict[str, tuple[str, ...]] = COMMENT_TAGS) -> str:
    """The tags list as WordPress shows it under the form: ``<a href="" title="">``."""
    return " ".join(
        "<" + name + "".join(f' {attr}=""' for attr in attrs) + ">"
        for name, attrs in tags.items()
    )


def _set_ugc_rel(attrs: dict, new: bool = False) -> dict:
    # An anchor whose href was refused is no link: rel is only valid with href.
    if (None, "href") in attrs:
        attrs[(None, "rel")] = "nofollow ugc"
    else:
        attrs.pop((None, "rel"), None)
    return attrs


# What browsers ignore inside a URL scheme: whitespace, controls, invisible
# characters (zero-width space, BOM...) and anything else outside ASCII.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]|[^\x00-\x7f]")


def is_safe_url(value: str) -> bool:
    """An absolute http, https or mailto URL, whatever disguise it wears."""
    normalised = _URL_NOISE.sub("", value).lower()
    try:
        parts = urlsplit(normalised)
    except ValueError:
        return False
    if parts.scheme not in PROTOCOLS:
        return False
    return parts.scheme == "mailto" or bool(parts.netloc)


def _comment_attribute(tag: str, name: str, value: str) -> bool:
    if name not in COMMENT_TAGS.get(tag, ()):
        return False
    # Relative and scheme-less links are refused too: a comment links out with
    # an explicit, allowed scheme or not at all.
    if name in ("href", "cite"):
        return is_safe_url(value)
    return True


class _ParagraphFilter(Filter):
    """Wraps a paragraph's inline content in ``<p>``, newlines become ``<br>``.

    A ``blockquote`` at the top level stays outside the paragraph, because
    ``<p><blockquote>`` would be re-parsed differently by a browser.
    """

    def __iter__(self) -> Iterator[dict]:
        depth = 0
        in_p = False
        for token in super().__iter__():
            kind = token["type"]
            if depth == 0 and kind == "StartTag" and token["name"] == "blockquote":
                if in_p:
                    yield {"type": "EndTag", "name": "p", "namespace": None}
                    in_p = False
            elif depth == 0 and not in_p and kind != "EndTag":
                if kind in ("Characters", "SpaceCharacters"):
                    token = {**token, "data": token["data"].lstrip("\n")}
                    if not token["data"].strip():
                        continue
                yield {"type": "StartTag", "name": "p", "namespace": None, "data": {}}
                in_p = True
            if kind == "StartTag":
                depth += 1
            elif kind == "EndTag":
                depth = max(depth - 1, 0)
            if kind in ("Characters", "SpaceCharacters") and "\n" in token["data"]:
                yield from _with_line_breaks(token)
            else:
                yield token
        if in_p:
            yield {"type": "EndTag", "name": "p", "namespace": None}


def _with_line_breaks(token: dict) -> Iterator[dict]:
    lines = token["data"].split("\n")
    for number, line in enumerate(lines):
        if number:
            yield {"type": "EmptyTag", "name": "br", "namespace": None, "data": {}}
            yield {"type": "SpaceCharacters", "data": "\n"}
        if line:
            yield {"type": token["type"], "data": line}


_comment_cleaner = bleach.Cleaner(
    tags=frozenset(COMMENT_TAGS),
    attributes=_comment_attribute,
    protocols=PROTOCOLS,
    strip=False,
    strip_comments=True,
    filters=[
        partial(
            LinkifyFilter,
            callbacks=[_set_ugc_rel],
            skip_tags={"code"},
            parse_email=False,
        ),
        _ParagraphFilter,
    ],
)

_post_cleaner = bleach.Cleaner(
    tags=frozenset(POST_TAGS),
    attributes={tag: list(attrs) for tag, attrs in POST_TAGS.items()},
    protocols=PROTOCOLS,
    strip=True,
    strip_comments=True,
)

_BLANK_LINES = re.compile(r"\n\s*\n")


def clean_comment(text: str) -> str:
    """Sanitise a reader's text to the whitelist, link bare URLs, add paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    # Each paragraph is cleaned on its own so an unclosed tag is closed inside
    # its paragraph and cannot swallow the rest of the page.
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
    cleaned = (_comment_cleaner.clean(paragraph) for paragraph in paragraphs)
    return "\n".join(html for html in cleaned if html)


def clean_post(html: str) -> str:
    """Sanitise the author's post body to the wider post whitelist."""
    return _post_cleaner.clean(html)
