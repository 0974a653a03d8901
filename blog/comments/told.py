"""A notice for the next page a browser gets, shown under one comment (or, for
comment 0, at the top of the comments): what became of the reader's action."""

from __future__ import annotations

from flask import flash, get_flashed_messages

_NOTICE = "comment-notice"  # the flashed messages' category


def tell_under_comment(comment_id: int, text: str) -> None:
    """Show ``text`` under the comment on the next page this browser gets
    (0: above the comments, for one no longer shown)."""
    flash([comment_id, text], _NOTICE)


def told_under_comment() -> tuple[int, str] | None:
    """The notice this page shows, taken from the session: (comment id, text)."""
    for comment_id, text in get_flashed_messages(category_filter=[_NOTICE]):
        return int(comment_id), str(text)
    return None
