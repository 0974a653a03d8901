"""A post's slug: the first segment of its address, beside the blog's own pages.

One rule for the editor and the WordPress import: a slug the blog's own pages
use, or one of digits alone, would shadow them or be shadowed.
"""

from __future__ import annotations

from ..core.text import slugify

# First path segments the blog's own pages use (/comments/feed/, /comment/<id>/,
# /avatar/<key>.svg, /healthz ...): a post there would shadow them or be shadowed.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "author",
        "avatar",
        "category",
        "comment",
        "comments",
        "email",
        "feed",
        "healthz",
        "i-tuoi-dati",
        "static",
        "tag",
        "webmention",
        "xmlrpc",
    }
)
SLUG_LENGTH = 200  # the column's


def post_slug(text: str) -> str:
    """``text`` (a typed slug, a title) as a slug that fits its column."""
    return slugify(text)[:SLUG_LENGTH].strip("-")


def slug_refusal(slug: str) -> str | None:
    """Why ``slug`` cannot be a post's (in Italian), or None."""
    if not slug:
        # Letters of other alphabets do not make a slug (``slugify``).
        return (
            "Lo slug deve contenere almeno una lettera latina (a-z) o una cifra: "
            "scrivilo a mano se il titolo non ne ha."
        )
    if slug.isdigit():
        # Digits alone read as a date archive's year ("/2024/"); "2019-2020"
        # is a post's address.
        return "Lo slug non può essere fatto di sole cifre: aggiungi una parola."
    if slug in RESERVED_SLUGS:
        return f"Lo slug «{slug}» è riservato: scegline un altro."
    return None
