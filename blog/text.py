"""Small text helpers with no Flask in them."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """``Chi è e chi NON è`` -> ``chi-e-e-chi-non-e``: ASCII, lower case, dashes."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    return _NON_WORD.sub("-", ascii_text.lower()).strip("-")


_POSITIVE_NUMBER = re.compile(r"[0-9]{1,10}")


def positive_int(value: str | None, below: int) -> int | None:
    """``value`` as an int in 1..below-1, None for anything else (never raises)."""
    text = (value or "").strip()
    if not _POSITIVE_NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number < below else None
