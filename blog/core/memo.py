"""Values a worker keeps for as long as the version they were made at stands.

Some answers cost a read of every response of a post or of the site (a count),
and the pages or redirects that need them cannot always be cached whole. Kept
with the version of what they were computed from (a random value that every
commit changing it replaces, see ``blog.pagecache``), they stay exact in every
worker: a worker that reads a new version computes them again.
"""

from __future__ import annotations

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
