"""WordPress's names, titles and slugs made ours: text, fitting our columns,
following the editor's slug rules."""

from __future__ import annotations

import hashlib
import html
import re

from sqlalchemy.orm import InstrumentedAttribute

from ..core.text import ascii_folded, web_url_or_empty
from ..models import Category, Post, Tag
from ..posts.categories import category_slug
from ..posts.slugs import post_slug, slug_refusal
from .reader import WxrCategory, WxrPost

_TERM_MAX = Tag.__table__.c.name.type.length
_WP_SLUG_MAX = Tag.__table__.c.wp_slug.type.length
_ELLIPSIS = re.compile(
    r"^\s*\[(?:\.\.\.|…|&#8230;|&hellip;)\]\s*|\s*\[(?:\.\.\.|…|&#8230;|&hellip;)\]\s*$"
)
# An HTML tag, as WordPress leaves them in titles, names and excerpts.
HTML_TAGS = re.compile(r"<[^>]+>")
_NOT_IN_NICENAME = re.compile(r"[^a-z0-9 _-]")
_DASHES = re.compile(r"[\s-]+")


def fit(text: str, column: InstrumentedAttribute[str]) -> str:
    """``text`` cut to ``column``'s width: PostgreSQL refuses a longer value,
    and the whole file with it; SQLite keeps it, and copy-db fails later."""
    return text[: column.type.length]


def plain_title(title: str) -> str:
    """A title as text: WordPress exports it raw since 5.7 (entities, tags), and
    so it exports names (a commenter's, a pingback's source, a term's)."""
    return " ".join(HTML_TAGS.sub("", html.unescape(title)).split())


def ping_excerpt(content: str) -> str:
    """A pingback's text without tags and WordPress's leading/trailing ``[...]``."""
    return _ELLIPSIS.sub("", HTML_TAGS.sub("", content)).strip()


def nicename(login: str) -> str:
    """The login as WordPress makes it an author's ``user_nicename``, in
    ``/author/<nicename>/`` (``sanitize_title``: accents dropped, "." a dash,
    "_" kept, other signs gone)."""
    text = ascii_folded(login).lower().replace(".", "-")
    return _DASHES.sub("-", _NOT_IN_NICENAME.sub("", text)).strip("-")


def post_title(data: WxrPost) -> str:
    """The item's title as text, cut to the column."""
    return fit(plain_title(data.title), Post.title)


def fitting_url(url: str, column: InstrumentedAttribute[str]) -> str:
    """``url`` if it is a web URL that fits ``column``, else empty."""
    # A web URL cut short is another address: one past the column is dropped.
    url = web_url_or_empty(url)
    return url if len(url) <= column.type.length else ""


def new_slug(data: WxrPost, title: str) -> str:
    """The slug a new post made of the item asks for (``free_slug`` may change it)."""
    # The editor's rule: a Greek or Cyrillic slug ("επίπεδο-2") keeps only its
    # digits once made ASCII, and a post named "feed" would be shadowed.
    for candidate in (post_slug(data.slug), post_slug(title)):
        if slug_refusal(candidate) is None:
            return candidate
    return f"{'pagina' if data.post_type == 'page' else 'post'}-{data.wp_id}"


def term_name(data: WxrCategory, slug: str) -> str:
    """A category's or tag's name as text, cut to the column (else its slug)."""
    # WordPress stores "&" in a term's name as "&amp;".
    return (plain_title(data.name) or slug)[:_TERM_MAX]


def term_slug(data: WxrCategory) -> str:
    """A category's or tag's slug here, which matches it across imports."""
    # The editor's rule, cut to the column (WordPress keeps 200 characters of
    # a term, our columns 120); names in non-Latin scripts slugify to
    # nothing: a stable hash instead.
    return category_slug(data.slug) or category_slug(data.name) or _hash_slug(data.name)


def keep_wordpress_slug(term: Category | Tag, data: WxrCategory) -> None:
    """Keep the slug WordPress gave ``term`` when it is not the one here
    ("caffè" is "caffe", "новости" a hash): its old archive address then
    leads to it. A term imported before the column gets it now."""
    old = data.slug.strip().lower()
    if old and old != term.slug and len(old) <= _WP_SLUG_MAX and not term.wp_slug:
        term.wp_slug = old


def _hash_slug(name: str) -> str:
    return "categoria-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
