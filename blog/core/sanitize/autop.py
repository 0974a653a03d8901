"""A post as its author wrote it: paragraphs made, ``<!--more-->`` kept.

``autop`` makes paragraphs of blank lines as WordPress's editor does;
``clean_written_post`` cleans the result with the post cleaner, keeping the
teaser's mark where it stands.
"""

from __future__ import annotations

import re
import secrets

from .post import bounded_post, post_cleaner
from .whitelist import LT_STAND_IN

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
    html = post_cleaner.clean(autop(bounded_post(text))).replace(LT_STAND_IN, "&lt;")
    return _EMPTY_PARAGRAPH.sub("", html)
