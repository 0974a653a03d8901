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

from flask import current_app, request
from markupsafe import Markup, escape

from ..comments.blocklist import BlockChoice, block_choices, can_block
from ..comments.labels import ACTIONS, STATUS_LABELS, TYPE_LABELS
from ..core.markers import any_marker, fill_markers, random_marker
from ..core.memo import markup_store
from ..core.text import words_of_html
from ..models import Comment, comment_values
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

    @cached_property
    def preview(self) -> str:
        """The start of a long text, which a queue row shows with the whole
        text folded under it ('' for a text short enough to show whole)."""
        if len(self.c.content_html) <= FOLDED_OVER:
            return ""  # the markup is longer than its words: no shorter text
        words = words_of_html(self.c.content_html)
        if len(words) <= FOLDED_OVER:
            return ""
        return words[:PREVIEW_LENGTH].rsplit(" ", 1)[0] + " …"


# A queue row folds a text of more characters than this (a spam wave's long
# texts made a phone's page of 20 rows 45,000 pixels tall), showing the first
# PREVIEW_LENGTH of them.
FOLDED_OVER = 700
PREVIEW_LENGTH = 300


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


# A queue row's markup is kept per worker (``blog.core.memo.markup_store``):
# rendering 20 rows was half of a queue page. A row shows its response's
# columns, its post's slug and title and its parent's id and name (the macro
# says so), so those are its key. The page's own values (its CSRF token, its
# way back) stand in the kept markup as random markers, filled in for each
# page; no stored text can guess them.
_PAGE_VALUES = ("next", "csrf", "back")
_MARKERS = {name: random_marker(name, 12) for name in _PAGE_VALUES}
_ANY_MARKER = any_marker(_MARKERS.values())
_STORE = "admin.row_markup"


def _row_key(c: Comment, script_root: str) -> tuple:
    parent = c.parent
    return (
        comment_values(c),
        c.post.slug,
        c.post.title,
        (parent.id, parent.author_name) if parent is not None else None,
        # Every address on it starts with the page's root (url_for).
        script_root,
    )


def queue_rows_markup(
    comments: Iterable[Comment], url_for: UrlFor, here: str, csrf: str
) -> list[Markup]:
    """The queue's rows of ``comments`` as markup, each rendered once per worker
    while it stays the same, with this page's way back (``here``) and CSRF
    token. Only the rows not kept are worked out (``response_rows``)."""
    kept = markup_store(_STORE)
    root = request.script_root
    keyed = [(c, _row_key(c, root)) for c in comments]
    markups = {key: kept.get(key) for _c, key in keyed}
    missing = [c for c, key in keyed if markups[key] is None]
    if missing:
        env = current_app.jinja_env
        render = env.get_template("admin/_comment.html").module.queue_row
        for row in response_rows(missing, url_for):
            key = _row_key(row.c, root)
            markups[key] = str(render(row, **_MARKERS))
            kept.keep(key, markups[key])
    values = {
        "next": str(escape(here)),
        "csrf": str(escape(csrf)),
        "back": str(escape(current_app.jinja_env.filters["urlencode"](here))),
    }
    filled = {_MARKERS[name]: value for name, value in values.items()}
    return [
        Markup(fill_markers(markups[key], _ANY_MARKER, filled)) for _c, key in keyed
    ]
