"""The one place where user and author markup becomes safe HTML.

``COMMENT_TAGS`` is THE comment whitelist: bleach enforces it and the note under
the comment form is generated from it. Callers use ``clean_comment`` and
``clean_post`` only, so the engine behind them (bleach today, nh3 tomorrow) can
change without touching them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter

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
    # All six: imported posts use the first and the last two too.
    "h1": ("id",),
    "h2": ("id",),
    "h3": ("id",),
    "h4": ("id",),
    "h5": ("id",),
    "h6": ("id",),
    "div": (),
    "address": (),
    "dl": (),
    "dt": (),
    "dd": (),
    "ul": (),
    "ol": ("start",),
    "li": (),
    "img": ("src", "alt", "title", "width", "height", "class"),
    "figure": ("class",),
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
    "span": (),  # for a ``lang`` of its own (below)
}

PROTOCOLS = frozenset({"http", "https", "mailto"})
# The largest comment text, as WordPress's comment column takes it; received
# webmention content is cut to it too.
COMMENT_MAX_BYTES = 65_525


def allowed_tags_note(tags: dict[str, tuple[str, ...]] = COMMENT_TAGS) -> str:
    """The tags list as WordPress shows it under the form: ``<a href="" title="">``."""
    return " ".join(
        "<" + name + "".join(f' {attr}=""' for attr in attrs) + ">"
        for name, attrs in tags.items()
    )


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
_LT, _AMP = "\ue000", "\ue001"
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
    return text.replace("<", _LT).replace("&", _AMP)


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
    text = _STRAY_AMP.sub(_AMP, _STRAY_LT.sub(_LT, text))
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
            out.append(_LT if found[0] == "<" else _AMP)
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
    text = _first_lines(text.replace(_LT, "").replace(_AMP, "").strip())
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
        host = urlsplit(href.replace(_AMP, "&")).hostname or ""
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

# The only classes a post keeps: WordPress's image alignments, which the
# stylesheet floats (any other class could borrow the page's own styles).
ALIGNMENTS = frozenset({"alignleft", "alignright", "aligncenter", "alignnone"})


class _AlignmentFilter(Filter):
    """Keeps of a ``class`` only WordPress's alignments; drops it if none."""

    def __iter__(self) -> Iterator[dict]:
        for token in super().__iter__():
            attrs = token.get("data") if token["type"] in _TAG_TOKENS else None
            if attrs and (None, "class") in attrs:
                kept = [c for c in attrs[(None, "class")].split() if c in ALIGNMENTS]
                attrs = dict(attrs)
                if kept:
                    attrs[(None, "class")] = " ".join(dict.fromkeys(kept))
                else:
                    del attrs[(None, "class")]
                token = {**token, "data": attrs}
            yield token


_TAG_TOKENS = ("StartTag", "EmptyTag")

# The ids the post page gives its own elements (the templates' and the comment
# form's): a heading of the post named like one would take its place, for the
# reply script ("respond") and for "#comment-12" links alike.
PAGE_IDS = frozenset(
    "author blocks bulk bulk-action cancel-comment-reply-link comment"
    " comment_parent comments confirm-question consent content csrf_token email"
    " email-notes form-allowed-tags notify_all notify_replies pings-title"
    " post-tags queue-post queue-search queue-type reply-title respond"
    " search-words stamp submit top typed typed-comment url website".split()
)
# Numbered ones (a comment's "comment-12", an imported twin's "risposta-12"),
# and a field's "-error" and "-help", which its aria-describedby names.
_PAGE_ID_SERIES = re.compile(
    r"(?:blocca|block|comment|edit|modifica|post|reply|risposta|select|typed)-[0-9]+"
    r"|[a-z_]+-(?:error|help)"
)


# A language tag (BCP 47's shape): a post may mark a quotation in English.
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,4}")


def _post_attribute(tag: str, name: str, value: str) -> bool:
    if name == "lang" and tag in POST_TAGS:
        return bool(_LANGUAGE.fullmatch(value))
    if name not in POST_TAGS.get(tag, ()):
        return False
    if name == "id":
        return value not in PAGE_IDS and not _PAGE_ID_SERIES.fullmatch(value)
    return True


_post_cleaner = bleach.Cleaner(
    tags=frozenset(POST_TAGS),
    attributes=_post_attribute,
    protocols=PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_AlignmentFilter],
)


def clean_comment(text: str) -> str:
    """Sanitise a reader's text to the whitelist, link bare URLs, add paragraphs.

    Linear in the length of ``text``: 64 KB of any text cleans in milliseconds.
    """
    defused = _defuse(text)
    if not defused:
        return ""
    html = _comment_cleaner.clean(defused).strip()
    return html.replace(_LT, "&lt;").replace(_AMP, "&amp;")


# Elements whose content is code, not text: bleach strips a tag but keeps what
# it holds, so a post's "<script>alert(1)</script>" would show "alert(1)".
# ASCII case only, as browsers read tag names: "ſcript" is no script.
_CODE_ELEMENT = re.compile(r"<(script|style|template)\b", re.IGNORECASE | re.ASCII)


def _drop_code_elements(html: str) -> str:
    # One pass, linear whatever the text: each search starts where the last
    # ended, and an unclosed element ends the text. (Searched in the text
    # itself: a lower-cased copy can be longer, "İ" becoming two characters.)
    kept, position = [], 0
    while match := _CODE_ELEMENT.search(html, position):
        kept.append(html[position : match.start()])
        closing = re.compile(rf"</{match.group(1)}[^>]*>", re.IGNORECASE | re.ASCII)
        end = closing.search(html, match.end())
        position = len(html) if end is None else end.end()
    kept.append(html[position:])
    return "".join(kept)


# html5lib's cost grows with the square of the nesting (every tag looks through
# the open elements): 20,000 unclosed <div> took 15 s, and the editor takes a
# megabyte. A post keeps MAX_POST_DEPTH open elements; a tag past them is shown
# as text, where the author sees it. Elements that the next of their kind
# closes (<p>, <li>, <td> …) and void ones (<br>, <img> …) never stay open.
MAX_POST_DEPTH = 64
# A tag is counted from its start alone: where it ends does not matter to HTML
# (<div/> opens a div; a quoted ">" or "<" may sit in its attributes).
_POST_TAG = re.compile(r"<!--|<(/?)([A-Za-z][^\s/>]{0,31})")
_NEVER_OPEN = frozenset(
    "area base br col embed hr img input link meta param source track wbr"
    " p li dt dd tr td th thead tbody tfoot option optgroup rb rt rp caption"
    " colgroup".split()
)
# Inside these, "/>" does close an element, as in XML.
_FOREIGN = ("svg", "math")


def _closes_itself(html: str, after: int) -> bool:
    # Looked for in a bounded window: a text without ">" stays linear.
    end = html.find(">", after, after + 1024)
    return end > 0 and html[end - 1] == "/"


def _bounded_nesting(html: str) -> str:
    out, open_tags, position, start = [], [], 0, 0
    while match := _POST_TAG.search(html, start):
        start = match.end()
        if match.group(0) == "<!--":  # markup in a comment is no markup
            closing = html.find("-->", start)
            start = len(html) if closing < 0 else closing + 3
            continue
        name = match.group(2).lower()
        if name in _NEVER_OPEN:
            continue
        if match.group(1):
            if name in open_tags:
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
            continue
        foreign = any(tag in _FOREIGN for tag in open_tags)
        if foreign and _closes_itself(html, start):
            continue
        if len(open_tags) < MAX_POST_DEPTH:
            open_tags.append(name)
            continue
        # The stand-in html5lib reads as plain text at no cost ("&lt;" costs
        # it an entity each: 300,000 of them took 15 s); "&lt;" once cleaned.
        out += [html[position : match.start()], _LT]
        position = match.start() + 1
    out.append(html[position:])
    return "".join(out)


def _bounded_post(html: str) -> str:
    return _bounded_nesting(_drop_code_elements(html.replace(_LT, "")))


def clean_post(html: str) -> str:
    """Sanitise the author's post body to the wider post whitelist."""
    return _post_cleaner.clean(_bounded_post(html)).replace(_LT, "&lt;")


# Block elements stand on their own: blank lines are put around their tags, so
# the text beside them still becomes paragraphs and gets no <br> next to them.
_BLOCK_NAMES = (
    "p|h[1-6]|ul|ol|li|blockquote|table|thead|tbody|tr|td|th|figure|figcaption"
    "|hr|div|dl|dt|dd|address"
)
_BLOCK_TAG = re.compile(rf"<(/?)({_BLOCK_NAMES})\b[^<>]*>", re.I)
# Blocks whose text is made paragraphs too (a quotation's, a division's).
_CONTAINERS = frozenset({"blockquote", "div"})
_BLOCK_START = re.compile(rf"</?(?:{_BLOCK_NAMES}|pre)\b", re.I)
_BLOCK_END = re.compile(rf"</?(?:{_BLOCK_NAMES})\b[^<>]*>\Z", re.I)
_ENDS_WITH_BREAK = re.compile(r"<br\s*/?>\Z", re.I)
_PRE_START = re.compile(r"<pre\b", re.I)
_PRE_END = re.compile(r"</pre\s*>", re.I)
# Neither XML nor a form the blog accepts (web.security) holds a NUL.
_ASIDE = "\x00{}\x00"
_SET_ASIDE = re.compile(r"\x00([0-9]+)\x00")


def _set_pre_aside(text: str, kept: list[str]) -> str:
    # One pass, linear whatever the text: an unclosed <pre> ends the search.
    pieces, position = [], 0
    while start := _PRE_START.search(text, position):
        end = _PRE_END.search(text, start.end())
        if end is None:
            break
        kept.append(text[start.start() : end.end()])
        pieces += [
            text[position : start.start()],
            f"\n\n{_ASIDE.format(len(kept) - 1)}\n\n",
        ]
        position = end.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _around_block_tag(match: re.Match) -> str:
    if match.group(2).lower() in _CONTAINERS:
        return f"\n\n{match.group(0)}\n\n"
    return f"{match.group(0)}\n\n" if match.group(1) else f"\n\n{match.group(0)}"


def _joined_lines(chunk: str) -> str:
    # A line break is a <br>, except beside a block element's tag or after a
    # <br> already there.
    lines = [line.strip(" \t") for line in chunk.split("\n")]
    joined = [lines[0]]
    for previous, line in zip(lines, lines[1:], strict=False):
        plain = not (
            _BLOCK_END.search(previous)
            or _ENDS_WITH_BREAK.search(previous)
            or _BLOCK_START.match(line)
        )
        joined.append(("<br>" if plain else "\n") + line)
    return "".join(joined)


def autop(text: str) -> str:
    """Paragraphs for text written without them, separated by blank lines.

    As WordPress's editor does: a single line break becomes ``<br>``, block
    elements are left standing on their own, the block editor's content, which
    is marked up already, is left as it is, and so is a ``<pre>``, whose blank
    lines are its own.
    """
    if "<!-- wp:" in text:
        return text
    kept: list[str] = []
    text = _set_pre_aside(text.replace("\r\n", "\n"), kept)
    text = _BLOCK_TAG.sub(_around_block_tag, text)
    chunks = [c.strip() for c in re.split(r"\n[ \t]*\n", text)]
    paragraphs = "\n".join(
        chunk
        if _SET_ASIDE.fullmatch(chunk)
        else _joined_lines(chunk)
        if _BLOCK_START.match(chunk)
        else f"<p>{_joined_lines(chunk)}</p>"
        for chunk in chunks
        if chunk
    )
    return _SET_ASIDE.sub(lambda match: kept[int(match.group(1))], paragraphs)


_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")


# WordPress's mark of where a post's teaser ends (``<!--more-->``, or with the
# link's own text, ``<!--more Leggi tutto-->``): the one HTML comment a post
# keeps, where it stands. It crosses the cleaner as a word no text holds (a
# new one each process), which is put back as the mark once the rest is clean.
MORE = "<!--more-->"
_MORE_WORD = "segnomore" + secrets.token_hex(12)
_MORE_PADDED = f"\n\n{_MORE_WORD}\n\n"
# What moves a scan in or out of a tag: a tag's start (not "a < b"), its end,
# and the quotes of its values (a ">" between them ends nothing).
_TAG_EDGE = re.compile(r"<[A-Za-z/]|[>\"']")


def _more_mark(text: str) -> tuple[int, int] | None:
    """Where the first ``<!--more…-->`` comment starts and ends, as WordPress
    reads it (the word right after ``<!--``, in lower case); one pass over the
    text, each comment skipped whole, none looked for inside a tag."""
    position, in_tag, quote = 0, False, ""
    while (start := text.find("<!--", position)) >= 0:
        for edge in _TAG_EDGE.finditer(text, position, start):
            mark = edge.group()
            if quote:
                quote = "" if mark == quote else quote
            elif in_tag and mark in "\"'":
                quote = mark
            elif mark == ">":
                in_tag = False
            elif mark[0] == "<":
                in_tag = True
        if in_tag:  # a value that reads like a comment: no comment
            position = start + 4
            continue
        end = text.find("-->", start + 4)
        if end < 0:
            return None
        follows = text[start + 8 : start + 9]
        if text.startswith("more", start + 4) and not follows.isalnum():
            return start, end + 3
        position = end + 3
    return None


def clean_written_post(text: str) -> str:
    """A post body as its author wrote it (the editor, a WordPress export):
    blank lines make paragraphs, then it is cleaned like any post (a paragraph
    of what the cleaner removes is removed too). Its ``<!--more-->`` is kept
    where it stands (``Post.teaser_html`` cuts there), and cleaning the result
    again gives it back unchanged."""
    mark = _more_mark(text)
    if mark is not None:
        # On a paragraph of its own between others; where the blank lines stay
        # as they are (in a <pre>), they are taken out again below.
        text = f"{text[: mark[0]]}{_MORE_PADDED}{text[mark[1] :]}"
    html = _clean_written_part(text)
    # Gone with an element the cleaner drops with its text (a script), or
    # back where it stood; never in a tag: ``_more_mark`` looks outside them.
    html = html.replace(f"<p>{_MORE_WORD}</p>", MORE).replace(_MORE_PADDED, MORE)
    return html.replace(_MORE_WORD, MORE)


def _clean_written_part(text: str) -> str:
    # Code elements go before the paragraphs are made: a paragraph of a
    # <script> would be left empty (clean_post's own pass would repeat it).
    html = _post_cleaner.clean(autop(_bounded_post(text))).replace(_LT, "&lt;")
    return _EMPTY_PARAGRAPH.sub("", html)
