"""The one place where user and author markup becomes safe HTML.

``COMMENT_TAGS`` is THE comment whitelist: bleach enforces it and the note under
the comment form is generated from it. Callers use ``clean_comment`` and
``clean_post`` only, so the engine behind them (bleach today, nh3 tomorrow) can
change without touching them.
"""

from __future__ import annotations

import re
from functools import partial

import bleach
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
    attrs[(None, "rel")] = "nofollow ugc"
    return attrs


_comment_cleaner = bleach.Cleaner(
    tags=frozenset(COMMENT_TAGS),
    attributes={tag: list(attrs) for tag, attrs in COMMENT_TAGS.items()},
    protocols=PROTOCOLS,
    strip=False,
    strip_comments=True,
    filters=[
        partial(
            LinkifyFilter,
            callbacks=[_set_ugc_rel],
            skip_tags={"code"},
            parse_email=False,
        )
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
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
    html_parts = []
    for paragraph in paragraphs:
        # Each paragraph is cleaned on its own so an unclosed tag is closed
        # inside its paragraph and cannot swallow the rest of the page.
        cleaned = _comment_cleaner.clean(paragraph)
        html_parts.append("<p>" + cleaned.replace("\n", "<br>\n") + "</p>")
    return "\n".join(html_parts)


def clean_post(html: str) -> str:
    """Sanitise the author's post body to the wider post whitelist."""
    return _post_cleaner.clean(html)
