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
