"""Add a parsed Disqus export's comments to the posts they were written on.

Threads are matched to posts by their link: an old address recorded by the
WordPress import, else the post whose slug is the link's last path segment.
Comments go in through ``add_response`` like every response; a comment already
stored (same post, author name and date, as the WordPress import tells them
apart) is not added again, so a second run adds nothing. Each stored comment
stands for one comment of the file: two guests' in the same second are two.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from ..comments.forms import EMAIL_MAX, NAME_MAX
from ..comments.notices import QUIET
from ..comments.operations import NewResponse, add_response
from ..core.text import slugify
from ..extensions import db
from ..models import Comment, Post
from ..posts.oldpaths import normalise_path, post_for_path, view_of_post
from .reader import DisqusExport, DisqusPost, DisqusThread

ANONYMOUS = "Anonimo"
_PARAGRAPH_BREAK = re.compile(r"\s*</p>\s*<p>\s*", re.I)
_OUTER_PARAGRAPH = re.compile(r"^\s*<p>|</p>\s*$", re.I)
_LINE_BREAK = re.compile(r"<br\s*/?>", re.I)


@dataclass
class DisqusReport:
    """What the import added, found already there, left out, and could not place."""

    added: Counter = field(default_factory=Counter)  # approved, spam
    skipped: Counter = field(default_factory=Counter)  # deleted, unmatched
    existing: int = 0
    # Threads that hold comments but match no post (Disqus also lists every
    # page that was merely visited: those, without comments, go unreported).
    unmatched: list[DisqusThread] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for the command's output, unmatched threads last."""
        lines = [
            f"comments: {self.added['approved']} added approved, "
            f"{self.added['spam']} added as spam, {self.existing} already present",
            f"skipped deleted: {self.skipped['deleted']}",
            f"skipped in unmatched threads: {self.skipped['unmatched']}",
        ]
        lines += [
            f"unmatched thread: {thread.title or '?'} <{thread.link}>"
            for thread in self.unmatched
        ]
        return "\n".join(lines)


def match_thread(link: str) -> Post | None:
    """The post a thread's link means: a recorded old address, else its slug;
    the same for a view of the post (its AMP page, a comment page)."""
    path = normalise_path(link)
    post = post_for_path(path, published_only=False)
    if post is not None:
        return post
    view = view_of_post(path)
    if view is None:
        path = unquote(urlsplit(link).path)
    else:
        path = view[0]
        post = post_for_path(path or "/", published_only=False)
        if post is not None:
            return post
    segments = [s for s in path.split("/") if s]
    slug = slugify(segments[-1]) if segments else ""
    if not slug:
        return None
    return db.session.scalar(select(Post).where(Post.slug == slug))


def _key(author_name: str, created_at: datetime) -> tuple:
    return (author_name, created_at)


def _stored_comments(post: Post) -> dict[tuple, list[Comment]]:
    """The post's comments by key, oldest first (as a run adds them)."""
    query = select(Comment).where(Comment.post_id == post.id, Comment.type == "comment")
    by_key: dict[tuple, list[Comment]] = {}
    for comment in db.session.scalars(query.order_by(Comment.id)):
        key = _key(comment.author_name, comment.created_at)
        by_key.setdefault(key, []).append(comment)
    return by_key


def _kept_parent(item: DisqusPost, by_id: dict[str, DisqusPost]) -> str:
    # A reply to a deleted comment (or to spam, for a comment that is not spam)
    # hangs under the nearest ancestor that stays, or starts a thread.
    parent = by_id.get(item.parent_id)
    seen: set[str] = set()
    while parent is not None and parent.dsq_id not in seen:
        if not parent.deleted and (item.spam or not parent.spam):
            return parent.dsq_id
        seen.add(parent.dsq_id)
        parent = by_id.get(parent.parent_id)
    return ""


def message_text(html: str) -> str:
    """Disqus's ``<p>…</p><p>…</p>`` as a reader's typed text (blank lines
    between paragraphs), which the comment whitelist turns back into paragraphs."""
    text = _PARAGRAPH_BREAK.sub("\n\n", html.strip())
    return _LINE_BREAK.sub("\n", _OUTER_PARAGRAPH.sub("", text))


def author_name(item: DisqusPost) -> str:
    """The name shown: the given one, else a Disqus account's username, else
    "Anonimo" for a guest (``isAnonymous``) who gave none."""
    # Cut to the column, as the comment form's limit would have (the cut name
    # is also what tells a second run the comment is there already).
    if item.author_name:
        return item.author_name[:NAME_MAX]
    return (not item.anonymous and item.author_username[:NAME_MAX]) or ANONYMOUS


def _response(item: DisqusPost, parent: Comment | None) -> NewResponse:
    return NewResponse(
        type="comment",
        status="spam" if item.spam else "approved",
        moderation_reason="importato da Disqus",
        content=message_text(item.message),
        author_name=author_name(item),
        # Kept like any commenter's address: never shown, never taken as proof
        # of identity.
        # Cut to the column, as the comment form's limit would have.
        author_email=item.author_email[:EMAIL_MAX],
        author_ip=item.ip_address,
        parent=parent,
        created_at=item.created_at,
    )


def import_disqus(export: DisqusExport) -> DisqusReport:
    """Import ``export`` into the session (the caller commits once, so a file
    goes in whole or not at all)."""
    db.session.info[QUIET] = True
    report = DisqusReport()
    posts = {thread.dsq_id: match_thread(thread.link) for thread in export.threads}
    with_comments = {item.thread_id for item in export.posts}
    report.unmatched = [
        thread
        for thread in export.threads
        if posts[thread.dsq_id] is None and thread.dsq_id in with_comments
    ]
    by_id = {item.dsq_id: item for item in export.posts}
    stored: dict[str, Comment] = {}
    # The post's comments not yet found in the file, by key, oldest first.
    known: dict[int, dict[tuple, list[Comment]]] = {}
    for item in sorted(export.posts, key=lambda p: (p.created_at, p.dsq_id)):
        post = posts.get(item.thread_id)
        if post is None:
            report.skipped["unmatched"] += 1
            continue
        if item.deleted:
            report.skipped["deleted"] += 1
            continue
        if post.id not in known:
            known[post.id] = _stored_comments(post)
        # Disqus's ids are not kept, and its text is not WordPress's for a
        # comment it synced from there: the key is (name, date), each stored
        # comment taken once.
        waiting = known[post.id].get(_key(author_name(item), item.created_at))
        if waiting:
            stored[item.dsq_id] = waiting.pop(0)
            report.existing += 1
            continue
        parent = stored.get(_kept_parent(item, by_id))
        if parent is not None and parent.post_id != post.id:
            parent = None
        stored[item.dsq_id] = add_response(post, _response(item, parent), commit=False)
        report.added["spam" if item.spam else "approved"] += 1
    db.session.flush()
    return report
