"""A response as the admin pages show it: its labels and its forms' addresses.

A queue page of 20 rows used to call url_for about 120 times and csrf_token
as often from its rows' forms. Here each per-response address is built once
per page around a marker id and filled in for each row, so a page costs the
same few url_for calls whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from ..comments.blocklist import BlockChoice, block_choices, can_block
from ..comments.labels import ACTIONS, STATUS_LABELS, TYPE_LABELS
from ..models import Comment
from .actions import ROW_ACTIONS

UrlFor = Callable[..., str]

# The largest id the routes accept: url_for is called once with it and the
# address is cut around it.
MARKER = 2_147_483_647

# A row's buttons by status: (action, Italian label).
ROW_BUTTONS = {
    status: tuple((name, ACTIONS[name].label) for name in names)
    for status, names in ROW_ACTIONS.items()
}


def id_url(url_for: UrlFor, endpoint: str) -> Callable[[int], str]:
    """``endpoint``'s address for any response id, from one call of ``url_for``."""
    marked = url_for(endpoint, comment_id=MARKER)
    head, found, tail = marked.partition(str(MARKER))
    if not found or str(MARKER) in tail:
        # The marker's digits are elsewhere in the address too (the mount
        # path, say): cutting would be ambiguous, so ask for each id.
        return lambda comment_id: url_for(endpoint, comment_id=comment_id)
    return lambda comment_id: f"{head}{comment_id}{tail}"


@dataclass(frozen=True)
class ResponseRow:
    """One response with what its row shows beyond the stored fields."""

    c: Comment
    type_label: str
    status_label: str
    buttons: tuple[tuple[str, str], ...]
    open_url: str
    action_url: str
    reply_url: str
    edit_url: str
    block_url: str
    post_url: str
    parent_url: str  # '' without a parent

    # Worked out when asked: a queue row only asks whether there is any (its
    # "Blocca" link), the response's own page lists them.
    @cached_property
    def block_choices(self) -> tuple[BlockChoice, ...]:
        """What the author may block this response's sender by."""
        return tuple(block_choices(self.c))

    @property
    def can_block(self) -> bool:
        """Whether there is anything to block the sender by."""
        return can_block(self.c)


def response_rows(comments: Iterable[Comment], url_for: UrlFor) -> list[ResponseRow]:
    """The rows of ``comments``, asking ``url_for`` once per kind of address
    and once per post, however many rows there are."""
    open_url = id_url(url_for, "admin.comment")
    action_url = id_url(url_for, "admin.comment_action")
    reply_url = id_url(url_for, "admin.reply_view")
    edit_url = id_url(url_for, "admin.edit_view")
    block_url = id_url(url_for, "admin.block_view")
    post_urls: dict[str, str] = {}
    rows = []
    for c in comments:
        slug = c.post.slug
        if slug not in post_urls:
            post_urls[slug] = url_for("posts.detail", slug=slug)
        parent = c.parent
        rows.append(
            ResponseRow(
                c=c,
                type_label=TYPE_LABELS.get(c.type, c.type),
                status_label=STATUS_LABELS.get(c.status, c.status),
                buttons=ROW_BUTTONS.get(c.status, ()),
                open_url=open_url(c.id),
                action_url=action_url(c.id),
                reply_url=reply_url(c.id),
                edit_url=edit_url(c.id),
                block_url=block_url(c.id),
                post_url=post_urls[slug],
                parent_url=open_url(parent.id) if parent is not None else "",
            )
        )
    return rows
