"""WordPress's own shortcodes in an imported post, turned into what they showed.

WordPress keeps ``[caption]``, ``[gallery]``, ``[embed]``, ``[audio]`` and
``[video]`` in a post's text and expands them each time the post is shown.
Here a post is HTML once imported, so they are expanded at import: a caption
becomes a figure, a gallery the figures of its images (the attachments the same
file lists), embedded and media addresses links. A shortcode of a plugin is
left as text, as WordPress shows it once the plugin is gone, and counted, so
the operator knows which posts to look at.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core.text import is_web_url


@dataclass(frozen=True)
class Attachment:
    """A file of the export (``post_type`` attachment): what a gallery shows."""

    wp_id: int
    parent_id: int
    url: str
    title: str = ""
    caption: str = ""


# "[[caption]]" is WordPress's way to write the shortcode as text: left alone.
# No pattern scans past the next bracket, nor twice over the same text.
_ENCLOSING = re.compile(r"(?<!\[)\[(caption|wp_caption|embed)\b([^\[\]]*)\]", re.I)
_SINGLE = re.compile(r"(?<!\[)\[(gallery|audio|video)\b([^\[\]]*)\](?:\[/\1\])?", re.I)
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_LEADING_IMAGE = re.compile(
    r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)", re.I | re.S
)
# Another shortcode: a name with attributes, or a closing tag ("[sic]" is text).
_WITH_ATTRIBUTES = re.compile(r"(?<!\[)\[([a-z][\w-]*)\s+[\w-]+\s*=")
_CLOSING = re.compile(r"\[/([a-z][\w-]*)\]")
# An address alone on its line: WordPress embeds it, here it is a link.
_BARE_ADDRESS = re.compile(r"^[ \t]*(https?://[^\s<>\"']+)[ \t]*$", re.M)
_MEDIA_SOURCES = ("src", "mp3", "m4a", "ogg", "wav", "wma", "mp4", "m4v", "webm", "ogv")


def _attributes(text: str) -> dict[str, str]:
    return {
        match.group(1).lower(): html.unescape(
            next(value for value in match.groups()[1:] if value is not None)
        )
        for match in _ATTRIBUTE.finditer(text)
    }


def _anchor(url: str) -> str:
    shown = html.escape(url)
    return f'<a href="{shown}">{shown}</a>'


def _link(url: str) -> str:
    return f"<p>{_anchor(url)}</p>"


def _figure(inner: str, caption: str) -> str:
    below = f"<figcaption>{caption}</figcaption>" if caption.strip() else ""
    return f"<figure>{inner}{below}</figure>"


def _caption(attributes: Mapping[str, str], content: str) -> str:
    match = _LEADING_IMAGE.fullmatch(content)
    if match is None:
        return content
    # Older exports kept the text in the attribute, newer ones after the image.
    text = match.group(2).strip() or html.escape(attributes.get("caption", ""))
    return _figure(match.group(1), text)


def _gallery(
    attributes: Mapping[str, str], post_id: int, attachments: Sequence[Attachment]
) -> str:
    named = [int(n) for n in re.findall(r"\d+", attributes.get("ids", ""))]
    by_id = {attachment.wp_id: attachment for attachment in attachments}
    if named:
        shown = [by_id[n] for n in named if n in by_id]
    else:  # no ids: the images attached to the post
        shown = [a for a in attachments if a.parent_id == post_id]
    return "".join(
        _figure(
            f'<img src="{html.escape(a.url)}" alt="{html.escape(a.title)}">',
            html.escape(a.caption),
        )
        for a in shown
        if is_web_url(a.url)
    )


def _media(attributes: Mapping[str, str]) -> str:
    url = next((attributes[k] for k in _MEDIA_SOURCES if k in attributes), "")
    return _link(url) if is_web_url(url) else ""


def _expand_enclosing(content: str, expand) -> str:
    # Each opening looks for its own closing tag once; a name found unclosed is
    # not looked for again, so the work stays linear in the text.
    pieces, position, unclosed = [], 0, set()
    while match := _ENCLOSING.search(content, position):
        name = match.group(1).lower()
        closing = None
        if name not in unclosed:
            closing = re.compile(rf"\[/{name}\]", re.I).search(content, match.end())
        if closing is None:
            unclosed.add(name)
            pieces.append(content[position : match.end()])
            position = match.end()
            continue
        pieces.append(content[position : match.start()])
        inner = content[match.end() : closing.start()]
        pieces.append(expand(name, _attributes(match.group(2)), inner))
        position = closing.end()
    pieces.append(content[position:])
    return "".join(pieces)


def _left_as_text(content: str) -> Counter:
    openings = Counter(m.group(1).lower() for m in _WITH_ATTRIBUTES.finditer(content))
    closings = Counter(m.group(1).lower() for m in _CLOSING.finditer(content))
    return Counter(
        {
            f"[{name}]": max(openings[name], closings[name])
            for name in openings | closings
        }
    )


def expand_shortcodes(
    content: str,
    post_id: int,
    attachments: Sequence[Attachment],
    left: Counter,
) -> str:
    """``content`` with WordPress's own shortcodes expanded; the names of those
    left as text are counted in ``left``."""

    def enclosing(name: str, attributes: Mapping[str, str], inner: str) -> str:
        if name == "embed":
            url = html.unescape(inner.strip())
            return _link(url) if is_web_url(url) else inner
        return _caption(attributes, inner)

    def single(match: re.Match) -> str:
        name, attributes = match.group(1).lower(), _attributes(match.group(2))
        if name == "gallery":
            return _gallery(attributes, post_id, attachments)
        return _media(attributes)

    content = _SINGLE.sub(single, _expand_enclosing(content, enclosing))
    content = _BARE_ADDRESS.sub(lambda m: _anchor(html.unescape(m.group(1))), content)
    left.update(_left_as_text(content))
    return content
