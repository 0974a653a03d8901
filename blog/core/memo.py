"""Values a worker keeps for as long as the version they were made at stands,
and markup it keeps under everything the markup shows.

Some answers cost a read of every response of a post or of the site (a count),
and the pages or redirects that need them cannot always be cached whole. Kept
with the version of what they were computed from (a random value that every
commit changing it replaces, see ``blog.pagecache``), they stay exact in every
worker: a worker that reads a new version computes them again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")

# Entries per store: a client asking for one key after another (every comment's
# permalink) must not grow a worker without end between two versions.
MAX_ENTRIES = 10_000


def kept_for_version(
    store: str,
    version: str,
    key: Hashable,
    compute: Callable[[], T],
    limit: int | None = None,
) -> T:
    """``compute()``, or what it gave for ``key`` while ``version`` stood.

    Without a version (a database no commit has versioned yet) nothing is kept.
    A store holds at most ``limit`` values (``MAX_ENTRIES`` by default); past
    that it starts again.
    """
    if not version:
        return compute()
    kept = current_app.extensions.get(store)
    if kept is None or kept[0] != version:
        kept = (version, {})
        current_app.extensions[store] = kept
    values = kept[1]
    try:
        return values[key]
    except KeyError:
        pass
    value = compute()
    if len(values) >= (limit or MAX_ENTRIES):
        values.clear()
    values[key] = value
    return value


# Characters per store (``markup_store``), the markup and the texts its key
# holds: a few hundred fragments of common length, a few MB per store and
# worker at most, whatever the texts.
MAX_MARKUP_CHARS = 2_000_000


class KeptMarkup:
    """Rendered fragments under keys that hold everything they show: a change
    to any of it makes a new key, so no version is needed and a fragment made
    before the change is never shown again. Past ``MAX_MARKUP_CHARS`` the
    store starts again. Reads take no lock (a dict read is atomic in CPython);
    a gthread worker's threads take turns to keep."""

    def __init__(self) -> None:
        self.markup: dict[Hashable, str] = {}
        self.chars = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        """The markup kept under ``key``, or None."""
        return self.markup.get(key)

    def keep(self, key: Hashable, markup: str) -> None:
        """Keep ``markup`` under ``key``; past MAX_MARKUP_CHARS, start again."""
        size = len(markup) + _text_size(key)
        with self._lock:
            if self.chars + size > MAX_MARKUP_CHARS:
                self.markup.clear()
                self.chars = 0
            self.markup[key] = markup
            self.chars += size


def _text_size(value: object) -> int:
    """The characters of the texts in a key (a comment's columns hold up to
    65,525 of them, and its markup may show far fewer)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, tuple):
        return sum(_text_size(item) for item in value)
    return 0


def markup_store(store: str) -> KeptMarkup:
    """The app's store of kept markup by this name (a test's apps share none);
    an empty one each time while templates reload as they are edited."""
    if current_app.jinja_env.auto_reload:
        return KeptMarkup()
    kept = current_app.extensions.get(store)
    if kept is None:
        kept = current_app.extensions.setdefault(store, KeptMarkup())
    return kept
