"""Avatars: an identicon drawn here from a keyed hash, never a plain email hash.

A plain MD5 of an email (Gravatar's key) can be reversed with a list of
addresses; an HMAC with the site's secret key cannot, and the picture is
served by this blog, so no reader's browser calls another host. Gravatar stays
available as an option (``AVATARS = "gravatar"``) for those who want it.
"""

from __future__ import annotations

import hashlib
import hmac
import re

KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
GRID = 5
CELL = 8
MARGIN = 4


def avatar_key(secret: str | bytes, identity: str) -> str:
    """The keyed hash naming someone's identicon (32 hex characters)."""
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    message = identity.strip().lower().encode()
    return hmac.new(secret_bytes, message, hashlib.sha256).hexdigest()[:32]


def identicon_svg(key: str) -> str:
    """A symmetric 5x5 identicon for ``key`` as an SVG document."""
    bits = int(key, 16)
    hue = (bits & 0xFFFF) % 360
    colour = f"hsl({hue}, 55%, 45%)"
    size = GRID * CELL + 2 * MARGIN
    cells = []
    for row in range(GRID):
        for column in range((GRID + 1) // 2):
            if not (bits >> (16 + row * GRID + column)) & 1:
                continue
            for x in {column, GRID - 1 - column}:
                cells.append(
                    f'<rect x="{MARGIN + x * CELL}" y="{MARGIN + row * CELL}" '
                    f'width="{CELL}" height="{CELL}"/>'
                )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}">'
        f'<rect width="{size}" height="{size}" fill="#f0f0f0"/>'
        f'<g fill="{colour}">{"".join(cells)}</g></svg>'
    )


def gravatar_url(email: str, size: int = 96) -> str:
    """Gravatar's address for ``email``, with an identicon as its fallback."""
    address = email.strip().lower().encode()
    digest = hashlib.md5(address, usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?s={size}&d=identicon"
