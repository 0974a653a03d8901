"""The whitelists: what a comment and a post may hold, and the note showing it.

``COMMENT_TAGS`` is THE comment whitelist: bleach enforces it and the note under
the comment form is generated from it; the post whitelist extends it.
"""

from __future__ import annotations

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

# Private-use stand-ins for a "<" and a "&" that stay text: html5lib reads them
# as plain text at no cost, and the cleaners turn them into "&lt;" and "&amp;"
# in their output. Two different characters: each comes back as its own.
LT_STAND_IN = "\ue000"
AMP_STAND_IN = "\ue001"


def allowed_tags_note(tags: dict[str, tuple[str, ...]] = COMMENT_TAGS) -> str:
    """The tags list as WordPress shows it under the form: ``<a href="" title="">``."""
    return " ".join(
        "<" + name + "".join(f' {attr}=""' for attr in attrs) + ">"
        for name, attrs in tags.items()
    )
