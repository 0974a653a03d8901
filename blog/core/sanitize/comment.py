"""The comment cleaner: a reader's text as safe HTML, in linear time.

The text is defused first (bounded, balanced markup and paragraphs), then
bleach keeps ``COMMENT_TAGS`` only, links bare URLs and adds paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter

from .whitelist import AMP_STAND_IN, COMMENT_TAGS, LT_STAND_IN, PROTOCOLS

# The largest comment text, as WordPress's comment column takes it; received
# webmention content is cut to it too.
COMMENT_MAX_BYTES = 65_525


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


# html5lib spends tens of microseconds on every tag, entity and stray "<" or
# "&", and more on deep nesting: 64 KB of them took seconds. Before bleach sees
# a comment, one linear pass keeps a bounded amount of markup (balanced within
# its paragraph) and turns every other "<" and "&" into a private-use stand-in
# that html5lib reads as plain text; the stand-ins become "&lt;" and "&amp;"
# again in bleach's output. Bleach still decides what every kept tag may be.
MAX_MARKUP = 512  # tags, entity references and "<" looked at in one comment
MAX_LINKS = 100  # bare URLs linked in one comment; the rest stay text
MAX_DEPTH = 16  # nested tags; a legitimate comment needs three or four
MAX_LINES = 400  # line breaks and paragraphs; later newlines become spaces
_MARKUP = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9]{0,15})(?=[\s/>])[^<>]{0,256}>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
    r"|<!--|[<&]"
)
_BLANK_LINES = re.compile(r"\n\s*\n")
_PARAGRAPH_BREAK = "\n\n"


# A "<" or "&" that cannot start markup is escaped in bulk, at C speed.
_STRAY_LT = re.compile(r"<(?![A-Za-z/!])")
_STRAY_AMP = re.compile(r"&(?![#A-Za-z])")


def _escape_all(text: str) -> str:
    return text.replace("<", LT_STAND_IN).replace("&", AMP_STAND_IN)


_NUMERIC_REFERENCE = re.compile(r"&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")


def _shown_reference_of(match: re.Match) -> str:
    return _shown_reference(match.group(0))


def _shown_reference(reference: str) -> str:
    """A numeric reference ("&#1;", "&#150;") as HTML may carry it: the same; a
    Windows-1252 one (128-159, old WordPress comments' quotes and dashes) as
    the character browsers show for it; '' for a control (tab, newline and CR
    aside), a surrogate, a non-character or past Unicode."""
    digits = reference[2:-1]
    point = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
    if 0x80 <= point <= 0x9F:
        meant = _windows_1252(point)
        return f"&#{ord(meant)};" if meant else ""
    if point in (9, 10, 13):
        return reference
    forbidden = (
        point < 0x20
        or point == 0x7F
        or 0xD800 <= point <= 0xDFFF
        or point > 0x10FFFF
        or point & 0xFFFE == 0xFFFE
        or 0xFDD0 <= point <= 0xFDEF
    )
    return "" if forbidden else reference


def _defuse_paragraph(text: str, budget: list[int]) -> str:
    text = _STRAY_AMP.sub(AMP_STAND_IN, _STRAY_LT.sub(LT_STAND_IN, text))
    out: list[str] = []
    open_tags: list[str] = []
    position = 0
    while budget[0] > 0 and (match := _MARKUP.search(text, position)):
        budget[0] -= 1  # every piece of markup looked at, kept or not
        out.append(text[position : match.start()])
        position = match.end()
        found = match.group(0)
        if found == "<!--":
            # Comments are dropped, as bleach would; unterminated, to the end.
            closing = text.find("-->", position)
            position = len(text) if closing < 0 else closing + 3
            continue
        if found.startswith("&#"):
            found = _shown_reference(found)
            if not found:
                continue  # a reference to a control or a surrogate says nothing
        name = (match.group(2) or "").lower()
        if name in COMMENT_TAGS and match.group(1):
            if name in open_tags:
                while open_tags:
                    closed = open_tags.pop()
                    out.append(f"</{closed}>")
                    if closed == name:
                        break
            continue  # a closing tag with nothing to close says nothing
        if name in COMMENT_TAGS and len(open_tags) < MAX_DEPTH:
            open_tags.append(name)
            # An attribute's references are held to the same characters.
            found = _NUMERIC_REFERENCE.sub(_shown_reference_of, found)
        elif name or len(found) == 1:
            out.append(LT_STAND_IN if found[0] == "<" else AMP_STAND_IN)
            position = match.start() + 1
            continue
        out.append(found)
    # Past the budget, whatever is left is text.
    out.append(_escape_all(text[position:]))
    out.extend(f"</{name}>" for name in reversed(open_tags))
    return "".join(out)


def _first_lines(text: str) -> str:
    position = -1
    for _ in range(MAX_LINES):
        position = text.find("\n", position + 1)
        if position < 0:
            return text
    return text[:position] + text[position:].replace("\n", " ")


def _windows_1252(point: int) -> str:
    try:
        return bytes([point]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves out
        return ""


# C1 controls in a text are Windows-1252 read as Latin-1 (a pasted "–" or
# "’"): shown as the character they meant, as their references are.
_C1_AS_MEANT = {point: _windows_1252(point) for point in range(0x80, 0xA0)}


def _defuse(text: str) -> str:
    """``text`` with bounded, balanced markup, paragraphs split by one blank line."""
    text = text.translate(_C1_AS_MEANT)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _first_lines(text.replace(LT_STAND_IN, "").replace(AMP_STAND_IN, "").strip())
    budget = [MAX_MARKUP]
    paragraphs = (
        _defuse_paragraph(paragraph.strip(), budget)
        if "<" in paragraph or "&" in paragraph
        else paragraph.strip()
        for paragraph in _BLANK_LINES.split(text)
    )
    return _PARAGRAPH_BREAK.join(p for p in paragraphs if p.strip())


# Bare URLs become links as WordPress's make_clickable does: with an http(s)
# scheme or starting with "www.". The pattern has no nested repetition, so it
# runs in linear time whatever the text (bleach's linkifier backtracked on
# "a-a-a-..." for seconds).
_BARE_URL = re.compile(
    r"(?<![\w.@/:-])(?:https?://|www\.)[^\s<>\"'`\ue000]+", re.IGNORECASE
)
_TRAILING = ".,;:!?'\")]}»”’"
_UGC = "nofollow ugc"


def _url_end(url: str) -> str:
    """``url`` without the punctuation that ends the sentence around it; a
    closing parenthesis stays while it closes one the URL opened."""
    # Counted once and moved along: counting and slicing at every character
    # was quadratic (2 s for a URL followed by 64 KB of ")").
    opened, closed = url.count("("), url.count(")")
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        if url[end - 1] == ")":
            if opened >= closed:
                break
            closed -= 1
        end -= 1
    return url[:end]


def _link_tokens(text: str, budget: list[int]) -> Iterator[dict]:
    position = 0
    for match in _BARE_URL.finditer(text):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        label = _url_end(match.group(0))
        # By its start, not by "://" anywhere: "www.a.ithttp://b" is a "www."
        # address, whose scheme must not become "www.a.ithttp".
        href = label if label[:4].lower() == "http" else "http://" + label
        try:
            host = urlsplit(href.replace(AMP_STAND_IN, "&")).hostname or ""
        except ValueError:
            # A bracket in the host ("[https://a.it](https://a.it)", a
            # Markdown or BBCode link) reads as a broken IPv6 address: no link,
            # the text stays as typed.
            continue
        if "." not in host.strip("."):
            continue
        if match.start() > position:
            yield {"type": "Characters", "data": text[position : match.start()]}
        yield {
            "type": "StartTag",
            "name": "a",
            "namespace": None,
            "data": {(None, "href"): href, (None, "rel"): _UGC},
        }
        yield {"type": "Characters", "data": label}
        yield {"type": "EndTag", "name": "a", "namespace": None}
        position = match.start() + len(label)
    if position < len(text):
        yield {"type": "Characters", "data": text[position:]}


class _LinkFilter(Filter):
    """Links bare URLs outside links and code; every link gets rel="nofollow ugc"."""

    def __iter__(self) -> Iterator[dict]:
        inside = 0  # depth of <a> and <code>, where text stays text
        budget = [MAX_LINKS]
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if kind == "StartTag" and name in ("a", "code"):
                inside += 1
                if name == "a":
                    # rel is only valid with href: an anchor whose href was
                    # refused is no link.
                    attrs = dict(token["data"])
                    attrs.pop((None, "rel"), None)
                    if (None, "href") in attrs:
                        attrs[(None, "rel")] = _UGC
                    token = {**token, "data": attrs}
            elif kind == "EndTag" and name in ("a", "code"):
                inside = max(inside - 1, 0)
            if kind == "Characters" and not inside:
                yield from _link_tokens(token["data"], budget)
            else:
                yield token


_P_START = {"type": "StartTag", "name": "p", "namespace": None, "data": {}}
_P_END = {"type": "EndTag", "name": "p", "namespace": None}
_TEXT = ("Characters", "SpaceCharacters")


class _ParagraphFilter(Filter):
    """Wraps each paragraph's inline content in ``<p>``, newlines become ``<br>``.

    Paragraphs arrive separated by one blank line at the top level (``_defuse``
    balanced the tags inside each). A ``blockquote`` at the top level stays
    outside the paragraph, because ``<p><blockquote>`` would be re-parsed
    differently by a browser.
    """

    def __iter__(self) -> Iterator[dict]:
        depth = 0
        in_p = False
        for token in super().__iter__():
            kind = token["type"]
            if depth == 0 and kind in _TEXT:
                for index, part in enumerate(token["data"].split(_PARAGRAPH_BREAK)):
                    if index:
                        if in_p:
                            yield _P_END
                            in_p = False
                        yield {"type": "SpaceCharacters", "data": "\n"}
                    if not in_p:
                        part = part.lstrip("\n")
                        if not part.strip():
                            continue
                        yield _P_START
                        in_p = True
                    yield from _with_line_breaks({"type": kind, "data": part})
                continue
            if depth == 0 and kind == "StartTag" and token["name"] == "blockquote":
                if in_p:
                    yield _P_END
                    in_p = False
            elif depth == 0 and not in_p and kind != "EndTag":
                yield _P_START
                in_p = True
            if kind == "StartTag":
                depth += 1
            elif kind == "EndTag":
                depth = max(depth - 1, 0)
            if kind in _TEXT and "\n" in token["data"]:
                yield from _with_line_breaks(token)
            else:
                yield token
        if in_p:
            yield _P_END


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
    filters=[_LinkFilter, _ParagraphFilter],
)


def clean_comment(text: str) -> str:
    """Sanitise a reader's text to the whitelist, link bare URLs, add paragraphs.

    Linear in the length of ``text``: 64 KB of any text cleans in milliseconds.
    """
    defused = _defuse(text)
    if not defused:
        return ""
    html = _comment_cleaner.clean(defused).strip()
    return html.replace(LT_STAND_IN, "&lt;").replace(AMP_STAND_IN, "&amp;")
