"""The post cleaner: the author's HTML to the wider post whitelist.

A post keeps WordPress's image alignments and ids of its own (none the page
uses itself, ``PAGE_IDS``); its code elements go with their content, and its
nesting is bounded before html5lib reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import bleach
from bleach.html5lib_shim import Filter

from .whitelist import LT_STAND_IN, POST_TAGS, PROTOCOLS

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
    "author blocks bulk bulk-action bulk-action-below cancel-comment-reply-link comment"
    " comment_parent comments confirm-question consent content csrf_token email"
    " email-notes form-allowed-tags notify_all notify_replies pings-title"
    " post-tags queue-per-page queue-post queue-search queue-type reply-title respond"
    " search-words select-all stamp submit top typed typed-comment url website".split()
)
# Numbered ones (a comment's "comment-12", an imported twin's "risposta-12",
# a row's form field "block-12-reason"),
# and a field's "-error" and "-help", which its aria-describedby names.
_PAGE_ID_SERIES = re.compile(
    r"(?:blocca|block|comment|edit|modifica|post|reply|risposta|select|typed)-[0-9]+"
    r"(?:-[a-z]+)?"
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


# The post whitelist's cleaner, which ``autop.clean_written_post`` uses too.
post_cleaner = bleach.Cleaner(
    tags=frozenset(POST_TAGS),
    attributes=_post_attribute,
    protocols=PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_AlignmentFilter],
)


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
        out += [html[position : match.start()], LT_STAND_IN]
        position = match.start() + 1
    out.append(html[position:])
    return "".join(out)


def bounded_post(html: str) -> str:
    """``html`` made safe to hand to bleach: no stray stand-in, no code
    elements, its nesting bounded (in linear time)."""
    return _bounded_nesting(_drop_code_elements(html.replace(LT_STAND_IN, "")))


def clean_post(html: str) -> str:
    """Sanitise the author's post body to the wider post whitelist."""
    return post_cleaner.clean(bounded_post(html)).replace(LT_STAND_IN, "&lt;")
