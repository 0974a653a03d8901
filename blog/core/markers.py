"""Markers: stand-ins rendered into a page kept for many requests, where each
request's own values go, filled in for each of them.

A cached post page, a queue row, a refusal's shell are rendered once with
``random_marker`` or fixed stand-ins in them. The rows and the shells are
filled by ``fill_markers`` in one pass over the text, so a value that holds a
marker's text is never filled in again; the page cache cuts its page at the
markers once when it keeps it, and joins the pieces with each reader's values.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping


def random_marker(name: str, nbytes: int = 16) -> str:
    """``name`` and a random tail, new in each process: no text stored or typed
    can hold it, so none can collect the values filled in for it."""
    return f"{name}-{secrets.token_hex(nbytes)}"


def any_marker(markers: Iterable[str]) -> re.Pattern[str]:
    """A pattern that finds each of ``markers`` (the longest first, so that no
    marker is found as the start of a longer one)."""
    found = sorted(markers, key=len, reverse=True)
    return re.compile("|".join(re.escape(marker) for marker in found))


def fill_markers(text: str, markers: re.Pattern[str], values: Mapping[str, str]) -> str:
    """``text`` with each marker that ``markers`` finds replaced by its value in
    ``values``, in one pass; a match with no value stays as it is."""

    def value(match: re.Match) -> str:
        found = values.get(match.group(0))
        return match.group(0) if found is None else found

    return markers.sub(value, text)
