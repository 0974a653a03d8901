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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..core.text import is_web_url


@dataclass(frozen=True)
class Attachment:
    """A file of the export (``post_type`` attachment): what a gallery shows."""

    wp_id: int
    parent_id: int
    url: str
    title: str = ""
    caption: str = ""


class Attachments:
    """The export's files with a web address, by id and by the post they are
    attached to, indexed once: a post of many shortcodes asks many times."""

    def __init__(self, files: Iterable[Attachment]) -> None:
        self.by_id: dict[int, Attachment] = {}
        self._by_post: dict[int, list[Attachment]] = {}
        self._kinds: dict[tuple[int, str], list[Attachment]] = {}
        for file in files:
            if is_web_url(file.url):
                self.by_id[file.wp_id] = file
                self._by_post.setdefault(file.parent_id, []).append(file)

    def of_post(self, post_id: int, kind: re.Pattern) -> list[Attachment]:
        """The files attached to ``post_id`` whose name ``kind`` matches; none
        for an item without an id (WordPress's unattached files have 0)."""
        if not post_id:
            return []
        key = (post_id, kind.pattern)
        if key not in self._kinds:
            files = self._by_post.get(post_id, [])
            self._kinds[key] = [file for file in files if _is_a(file, kind)]
        return self._kinds[key]


def _is_a(file: Attachment, kind: re.Pattern) -> bool:
    """Whether ``file``'s name says it is of ``kind`` (an image, a sound…)."""
    return bool(kind.search(urlsplit(file.url).path))


# "[[caption]]" and "[[caption]…[/caption]]" are WordPress's way to write a
# shortcode as text: shown with one bracket less. No pattern scans past the
# next bracket or tag, nor twice over the same text.
_ENCLOSING = re.compile(r"(\[?)\[(caption|wp_caption|embed)\b([^\[\]]*)\]", re.I)
_SINGLE = re.compile(
    r"(\[?)\[(gallery|audio|video)\b([^\[\]]*)\](?:\[/\2\])?(\]?)", re.I
)
# Starting only where a name starts: a long run of letters is read once.
_ATTRIBUTE = re.compile(
    r"""(?<![\w-])([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))"""
)
_LEADING_IMAGE = re.compile(
    r"\s*((?:<a\b[^<>]*>\s*)?<img\b[^<>]*>(?:\s*</a>)?)(.*)", re.I | re.S
)
# Another shortcode: a name with attributes, or a closing tag ("[sic]" is text).
_WITH_ATTRIBUTES = re.compile(r"(?<!\[)\[([a-z][\w-]*)\s+[\w-]+\s*=")
_CLOSING = re.compile(r"(?<!\[)\[/([a-z][\w-]*)\](?!\])")
# An address alone on its line: WordPress embeds it, here it is a link.
_BARE_ADDRESS = re.compile(r"^[ \t]*(https?://[^\s<>\"']+)[ \t]*$", re.M)
_MEDIA_SOURCES = ("src", "mp3", "m4a", "ogg", "wav", "wma", "mp4", "m4v", "webm", "ogv")
_MEDIA_FILES = {
    "audio": re.compile(r"\.(?:mp3|m4a|ogg|oga|wav|wma|flac|aac)$", re.I),
    "video": re.compile(r"\.(?:mp4|m4v|webm|ogv|mov|wmv|flv)$", re.I),
}
# The block editor's players: a link here (no player takes another site's
# file under this blog's Content-Security-Policy).
_MEDIA_ELEMENT = re.compile(r"<(?:audio|video|source)\b[^<>]*>", re.I)
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|svg|tiff?|ico|heic)$", re.I)
# A tag's own text (its attributes) is no place for a shortcode or a lone
# address: hidden while they are expanded. Neither XML nor a form holds these.
_TAG = re.compile(r"<[^<>]*>")
_HIDDEN = str.maketrans({"[": "\x00", "\n": "\x01"})
_SHOWN = str.maketrans({"\x00": "[", "\x01": "\n"})
_NO_IMAGES = "[gallery] (its images are not in the file)"
_NO_FILE = "[{}] (its file is not in the file)"
_NO_WEB_ADDRESS = "<audio>/<video> (a file with no web address)"
_OWN_NAMES = frozenset({"caption", "wp_caption", "embed", "gallery", "audio", "video"})


def _attributes(text: str) -> dict[str, str]:
    # As written: a caption's is HTML; an address is unescaped where it is used.
    return {
        match.group(1).lower(): next(
            value for value in match.groups()[1:] if value is not None
        )
        for match in _ATTRIBUTE.finditer(text)
    }


def _anchor(url: str) -> str:
    shown = html.escape(url)
    return f'<a href="{shown}">{shown}</a>'


def _link(url: str) -> str:
    return f"<p>{_anchor(url)}</p>"


def _figure(inner: str, caption: str, align: str = "") -> str:
    below = f"<figcaption>{caption}</figcaption>" if caption.strip() else ""
    # Only WordPress's alignments pass the post's cleaner.
    opening = f'<figure class="{html.escape(align)}">' if align else "<figure>"
    return f"{opening}{inner}{below}</figure>"


def _caption(attributes: Mapping[str, str], content: str) -> str:
    match = _LEADING_IMAGE.fullmatch(content)
    if match is None:
        return content
    # Older exports kept the text in the attribute (markup allowed, as
    # WordPress shows it; the post's cleaner comes after), newer ones after
    # the image.
    text = match.group(2).strip() or attributes.get("caption", "")
    return _figure(match.group(1), text, attributes.get("align", ""))


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"[0-9]{1,10}", text)]


def _gallery_images(
    attributes: Mapping[str, str], post_id: int, attachments: Attachments
) -> list[Attachment]:
    # "ids" since WordPress 3.5, "include" before; without either, the images
    # attached to the post, less the "exclude"d ones.
    named = _numbers(attributes.get("ids", "") or attributes.get("include", ""))
    if named:
        chosen = [attachments.by_id[n] for n in named if n in attachments.by_id]
        return [a for a in chosen if _is_a(a, _IMAGE_FILE)]
    left_out = set(_numbers(attributes.get("exclude", "")))
    images = attachments.of_post(post_id, _IMAGE_FILE)
    return [a for a in images if a.wp_id not in left_out]


def _gallery(images: Sequence[Attachment]) -> str:
    return "".join(
        _figure(
            f'<img src="{html.escape(a.url)}" alt="{html.escape(a.title)}">',
            html.escape(a.caption),
        )
        for a in images
    )


def _media_url(name: str, text: str, post_id: int, attachments: Attachments) -> str:
    """The file of an [audio] or [video]: named, written alone ("[audio URL]"),
    else the post's first attached file of its kind, as WordPress plays."""
    attributes = _attributes(text)
    named = [attributes[k] for k in _MEDIA_SOURCES if k in attributes]
    # Words outside the attributes' values: a caption's words are no file.
    named += _ATTRIBUTE.sub(" ", text).split()
    for url in map(html.unescape, named):
        if is_web_url(url):
            return url
    files = attachments.of_post(post_id, _MEDIA_FILES[name])
    return files[0].url if files else ""


def _expand_enclosing(
    content: str, expand: Callable[[str, Mapping[str, str], str], str]
) -> str:
    # Each opening looks for its own closing tag once; a name found unclosed is
    # not looked for again, so the work stays linear in the text.
    pieces, position, unclosed = [], 0, set()
    while match := _ENCLOSING.search(content, position):
        escaped, name = match.group(1), match.group(2).lower()
        closing = None
        if name not in unclosed:
            closing = re.compile(rf"\[/{name}\]", re.I).search(content, match.end())
        if closing is None:
            unclosed.add(name)
            pieces.append(content[position : match.end()])
            position = match.end()
            continue
        pieces.append(content[position : match.start()])
        if escaped and content.startswith("]", closing.end()):
            # Written as text: the shortcode itself, one bracket less each side.
            pieces.append(content[match.start() + 1 : closing.end()])
            position = closing.end() + 1
            continue
        inner = content[match.end() : closing.start()]
        pieces.append(escaped + expand(name, _attributes(match.group(3)), inner))
        position = closing.end()
    pieces.append(content[position:])
    return "".join(pieces)


def _left_as_text(content: str) -> Counter:
    # WordPress's own names left are text on purpose ("[[gallery]]"), or a
    # gallery counted apart.
    openings = Counter(m.group(1).lower() for m in _WITH_ATTRIBUTES.finditer(content))
    closings = Counter(m.group(1).lower() for m in _CLOSING.finditer(content))
    return Counter(
        {
            f"[{name}]": max(openings[name], closings[name])
            for name in openings | closings
            if name not in _OWN_NAMES
        }
    )


def expand_shortcodes(
    content: str,
    post_id: int,
    attachments: Attachments,
    left: Counter,
) -> str:
    """``content`` with WordPress's own shortcodes expanded; those left as text
    are counted in ``left`` (a plugin's, by name; a gallery or a player whose
    file the export does not hold)."""

    def enclosing(name: str, attributes: Mapping[str, str], inner: str) -> str:
        if name == "embed":
            url = html.unescape(inner.strip())
            return _link(url) if is_web_url(url) else inner
        return _caption(attributes, inner)

    def single(match: re.Match) -> str:
        opening, name, closing = match.group(1), match.group(2).lower(), match.group(4)
        if opening and closing:  # written as text
            return match.group(0)[1:-1]
        if name != "gallery":
            url = _media_url(name, match.group(3), post_id, attachments)
            if not url:
                left[_NO_FILE.format(name)] += 1
                return match.group(0)
            return opening + _link(url) + closing
        images = _gallery_images(_attributes(match.group(3)), post_id, attachments)
        if not images:
            left[_NO_IMAGES] += 1
            return match.group(0)
        return opening + _gallery(images) + closing

    def tag(match: re.Match) -> str:
        # A tag's own text is hidden; a player's tag becomes its link, hidden
        # too, so no shortcode in its address is read.
        text = match.group(0)
        if _MEDIA_ELEMENT.fullmatch(text):
            url = html.unescape(_attributes(text[1:-1]).get("src", ""))
            if is_web_url(url):
                text = _link(url)
            elif url:
                left[_NO_WEB_ADDRESS] += 1
                text = ""
            else:
                text = ""  # a <video> whose <source> names the file
        return text.translate(_HIDDEN)

    content = _TAG.sub(tag, content)
    content = _SINGLE.sub(single, _expand_enclosing(content, enclosing))
    content = _BARE_ADDRESS.sub(lambda m: _anchor(html.unescape(m.group(1))), content)
    left.update(_left_as_text(content))
    return content.translate(_SHOWN)
