"""Small text helpers with no Flask in them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from html import unescape
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

_NON_WORD = re.compile(r"[^a-z0-9]+")


def ascii_folded(text: str) -> str:
    """``text`` in ASCII: accents dropped, what has no ASCII form left out."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slugify(text: str) -> str:
    """``Chi è e chi NON è`` -> ``chi-e-e-chi-non-e``: ASCII, lower case, dashes."""
    return _NON_WORD.sub("-", ascii_folded(text).lower()).strip("-")


_POSITIVE_NUMBER = re.compile(r"[0-9]{1,10}")


# The largest id a row has on either database (an integer column: 32 bits).
MAX_ID = 2**31 - 1


def positive_int(value: str | None, below: int) -> int | None:
    """``value`` as an int in 1..below-1, None for anything else (never raises)."""
    text = (value or "").strip()
    if not _POSITIVE_NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number < below else None


def row_id(value: str | None) -> int | None:
    """``value`` as a row's id (1..MAX_ID), None for anything else."""
    return positive_int(value, MAX_ID + 1)


def listing_page(value: str | None) -> int:
    """The page a ``?page=`` value names: 1 when missing or not a sane number."""
    return positive_int(value, 1_000_000) or 1


MAX_URL_LENGTH = 2000
# C0 controls, DEL and the two non-characters, except tab, newline and CR: XML
# cannot carry them, mail headers and PostgreSQL text refuse some of them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# The C1 controls but NEL (a line break): XML carries them, so a text keeps
# them, but a line of a page (HTML forbids them) or a mail header does not.
_C1_CONTROL = re.compile("[\x80-\x84\x86-\x9f]")
# Bidirectional embeddings, overrides and isolates: in a name they would turn
# what follows it on the line (" scrive:", an IP in the queue, a mail's
# subject) backwards. Right-to-left names need none of them.
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


# A browser reads a backslash as a slash ("http://evil.example\@ours/" is
# evil.example to it, ours to urlsplit) and drops tabs and line breaks.
_NOT_IN_A_URL = re.compile(r"[\\\s\x00-\x1f\x7f]")


def is_web_url(url: object) -> bool:
    """An absolute http(s) URL with a host, of sane length, that browsers and
    Python read alike: no backslash, space or control (never raises)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        return False
    if _NOT_IN_A_URL.search(url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def fits_an_index(url: str) -> bool:
    """Whether ``url`` may be a key of a unique index (a response's source, a
    ping's target): PostgreSQL bounds an entry by bytes (2,704), and 2,000 CJK
    characters are 6,000 bytes."""
    return len(url.encode("utf-8", "replace")) <= MAX_URL_LENGTH


def web_url_or_empty(url: str | None) -> str:
    """``url`` when it is a web URL, else '': links we render never carry
    another scheme, whatever was stored (an import, a webmention's h-card)."""
    return url if url and is_web_url(url) else ""


def strip_controls(text: str) -> str:
    """``text`` without control characters XML, mail headers and PostgreSQL refuse."""
    return _CONTROL.sub("", text)


def strip_display_controls(text: str) -> str:
    """``text`` without control characters, C1 and bidirectional ones
    included (NEL aside, a line break): for text shown inside a line of ours
    (a name, a title, a quoted excerpt)."""
    return _C1_CONTROL.sub("", _BIDI_CONTROL.sub("", strip_controls(text)))


def one_line(text: str | None) -> str:
    """``text`` as a single line: no control characters (bidirectional ones
    included), whitespace collapsed.

    For names and subjects: a line break would forge a mail header or a line
    of a notice. ``str.split()`` also breaks on U+2028, U+2029 and NEL, which
    some mail clients render as line breaks.
    """
    return " ".join(strip_display_controls(text or "").split())


# Where one block of text ends and the next begins: the text is cut there
# before the tags are stripped, or "<li>uno</li><li>due</li>" would read "unodue".
_BLOCK_EDGE = re.compile(
    r"(?=</?(?:p|div|h[1-6]|li|ul|ol|dl|dt|dd|blockquote|pre|table|tr|td|th|br|hr"
    r"|figure|figcaption|section|article)\b)",
    re.IGNORECASE,
)


# A tag, read past the ">" a quoted attribute value may hold (the cleaners
# escape "<" there, not ">": title="a > b"), or a comment.
_TAG = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.DOTALL)


def text_blocks_of_html(
    html: str | None, edges: re.Pattern[str] = _BLOCK_EDGE
) -> list[str]:
    """The text of sanitised HTML cut at ``edges``: each piece without tags,
    its whitespace collapsed, then its entities read (empty where it had no
    text)."""
    return [
        unescape(" ".join(_TAG.sub("", part).split()))
        for part in edges.split(html or "")
    ]


def words_of_html(html: str | None) -> str:
    """The text of sanitised HTML on one line, its words one space apart."""
    return " ".join(" ".join(text_blocks_of_html(html)).split())


def sha256_hex(text: str) -> str:
    """What is stored in place of a secret token: its SHA-256, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def normalised_email(email: str | None) -> str:
    """The one form of an address that we store, count and compare: trimmed,
    lower case, and as the form's validator (email_validator) normalises it:
    NFC, the domain in Unicode as IDNA 2008 maps it. So ``BÜCHER.example``,
    ``ｂücher.example`` and ``xn--bcher-kva.example`` (one mailbox) are one
    address to the confirmation limit, the blocklist and privacy requests;
    ``straße.de`` stays itself, it is not ``strasse.de``."""
    value = (email or "").strip()
    if value.isascii() and "xn--" not in value.lower():
        return value.lower()  # what the validator's form is for these
    try:
        value = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:  # not an address the form takes: as typed
        value = unicodedata.normalize("NFC", value)
    return value.lower()


def ascii_domain(address: str) -> str:
    """``address`` with its domain as a mail server without SMTPUTF8 reads it
    (``bücher.example`` is ``xn--bcher-kva.example``)."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        domain = validate_email(address, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return address
    return f"{local}@{domain}"
