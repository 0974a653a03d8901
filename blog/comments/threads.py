"""A post's responses as pages of threads, in a fixed number of queries.

Pages hold top-level threads (replies follow their thread); the page's
threads come in one query and all their replies in another, through
``Comment.thread_id``. A reader also sees their own held comments, recognised
by the owner-token hash their browser presents.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    union_all,
    update,
)

from ..core.memo import kept_for_version
from ..core.settings import (
    DEEPEST_THREAD,
    UNSEEN_BY_READERS,
    CommentSettings,
    content_version,
)
from ..extensions import db
from ..models import Comment, Post

# Besides the approved ones, a writer sees their held comments, and their spam
# as if held (the same notice): a robot that keeps its cookies learns nothing.
SHOWN_TO_WRITER = ("pending", "spam")
# What this module keeps per content version (``blog.core.memo``).
_KEPT = "comments.kept_counts"


@dataclass
class Node:
    comment: Comment
    depth: int = 1
    children: list[Node] = field(default_factory=list)


@dataclass
class CommentsPage:
    threads: list[Node]
    total: int  # approved comments and pings of the whole post
    page: int
    pages: int
    per_page: int
    newest_first: bool = False  # the next page holds older threads

    @property
    def first_number(self) -> int:
        """The list number of this page's first thread."""
        return (self.page - 1) * self.per_page + 1


def thread_root(comment: Comment) -> int:
    """The id of the comment heading ``comment``'s thread (its own, at the top)."""
    return comment.thread_id or comment.id


def in_thread(root_id: int) -> ColumnElement[bool]:
    """The comments of the thread headed by ``root_id``: the head itself, whose
    ``thread_id`` the form leaves NULL, and its replies."""
    return or_(Comment.id == root_id, Comment.thread_id == root_id)


def place_in_thread(comment: Comment, parent: Comment | None) -> None:
    """Hang ``comment`` under ``parent`` (its thread, one level deeper), or at the
    top, where it heads its own thread."""
    comment.parent_id = parent.id if parent else None
    # A top-level comment's thread id stays NULL: writing its own id would take
    # an UPDATE after the INSERT. Older rows carry their own id there; readers
    # take ``thread_id or id``, and only replies are looked up by thread id.
    comment.thread_id = (parent.thread_id or parent.id) if parent else None
    comment.depth = parent.depth + 1 if parent else 1


def hold_for_change(chosen: ColumnElement[bool]) -> None:
    """Keep other writers away from the responses ``chosen`` until the caller
    commits. A moderator's change reads their status next: another's change in
    between would be undone without a word (approve over spam). A deletion
    reads their replies next: one stored in between would stay in the thread of
    a response that is gone, on no page."""
    if db.session.get_bind().dialect.name == "sqlite":
        # No row locks: the database's one write lock, which a write statement
        # takes even when it matches no row, keeps every other writer out.
        db.session.execute(
            update(Comment).where(false()).values(depth=Comment.depth),
            # It changes nothing: the page cache need not hear of it.
            execution_options={"synchronize_session": False, UNSEEN_BY_READERS: True},
        )
    else:
        # A reply's INSERT holds its parent's key until it commits: this
        # waits for it, then the replies are read with it among them.
        db.session.execute(select(Comment.id).where(chosen).with_for_update())


def lift_replies(deleted: Collection[Comment]) -> None:
    """Before ``deleted`` are deleted for good: the replies of each take its
    place, one level up, as WordPress hangs them on the deleted one's parent
    (the caller deletes and commits). A reply left at the top heads a thread of
    its own, or the page, which finds replies by thread, would lose it and
    everything under it. One query per thread, however many are deleted."""
    gone = {comment.id for comment in deleted}
    for thread in {comment.thread_id or comment.id for comment in deleted}:
        members = db.session.scalars(
            select(Comment).where(
                or_(Comment.thread_id == thread, Comment.id == thread)
            )
        ).all()
        parent_of = {member.id: member.parent_id for member in members}
        replies: dict[int | None, list[Comment]] = {}
        for member in members:
            if member.id in gone:
                continue
            parent = member.parent_id
            while parent in gone and parent in parent_of:
                parent = parent_of[parent]  # the nearest one kept, None at the top
            replies.setdefault(parent, []).append(member)
        below = []
        for top in replies.get(None, []):
            if top.parent_id is not None:  # a reply now heading its own thread
                top.parent_id, top.thread_id, top.depth = None, None, 1
            below.append((top, top.id))
        while below:
            comment, root = below.pop()
            for reply in replies.get(comment.id, []):
                reply.parent_id, reply.thread_id = comment.id, root
                reply.depth = comment.depth + 1
                below.append((reply, root))


def held_by(owner_hash: str | ColumnElement[str]) -> ColumnElement[bool]:
    """The held responses written by ``owner_hash``'s browser (shown to it alone);
    the hash may be a bound parameter of a statement built once."""
    return and_(
        Comment.status.in_(SHOWN_TO_WRITER), Comment.owner_token_hash == owner_hash
    )


def is_visible(comment: Comment, owner_hash: str = "") -> bool:
    """Whether ``owner_hash``'s browser sees this loaded response: approved, or
    held and written by it."""
    if comment.status == "approved":
        return True
    mine = bool(owner_hash) and comment.owner_token_hash == owner_hash
    return mine and comment.status in SHOWN_TO_WRITER


def is_shown(comment: Comment, owner_hash: str = "") -> bool:
    """Whether the post's page shows ``comment`` to ``owner_hash``'s browser:
    it and every comment it answers are visible to it (``build_forest`` hides
    a reply under a hidden comment)."""
    while comment is not None:
        if not is_visible(comment, owner_hash):
            return False
        comment = comment.parent
    return True


def _thread_order(newest: bool) -> tuple:
    if newest:
        return (Comment.created_at.desc(), Comment.id.desc())
    return (Comment.created_at, Comment.id)


def count_pages(total_threads: int, settings: CommentSettings) -> int:
    """How many comment pages ``total_threads`` threads fill (at least one)."""
    per_page = settings.comments_per_page
    return max((total_threads + per_page - 1) // per_page, 1)


def load_page(
    post: Post, page: int, settings: CommentSettings, owner_hash: str = ""
) -> CommentsPage | None:
    """One page of ``post``'s threads, or None past the last page.

    At most four queries: the post's counts (kept per content version), the
    writer's own held threads (with ``owner_hash``), the threads, their replies.
    """
    total, top_level = _approved_counts(post.id)
    held_threads = _top_level_held(post.id, owner_hash) if owner_hash else 0
    pages = count_pages(top_level + held_threads, settings)
    if page > pages:
        return None
    per_page = settings.comments_per_page
    # A writer with no held thread on this post (their cookie follows them to
    # every post) sees its threads as anyone does: read them by the index on
    # (post, status, parent, date), not through the writer's OR.
    roots = db.session.scalars(
        _roots_statement(settings.comment_order, writer=bool(held_threads)),
        {
            "post_id": post.id,
            "owner_hash": owner_hash,
            "offset": (page - 1) * per_page,
            "limit": per_page,
        },
    ).all()
    replies = _replies([root.id for root in roots], owner_hash) if roots else []
    return CommentsPage(
        threads=build_forest(roots, replies),
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        newest_first=settings.comment_order == "newest",
    )


# The page's statements are built once per shape, their values bound: pages
# made for one reader (a writer's own held comment, saved details) build them
# on every view otherwise, which cost more than SQLite spends running them.
@lru_cache(maxsize=4)
def _roots_statement(order: str, writer: bool) -> Select:
    # What ``is_visible`` says of one response, for a page of them.
    shown = Comment.status == "approved"
    if writer:
        shown = or_(shown, held_by(bindparam("owner_hash")))
    newest = order == "newest"
    return (
        select(Comment)
        .where(
            Comment.post_id == bindparam("post_id"), Comment.parent_id.is_(None), shown
        )
        .order_by(*_thread_order(newest))
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


@lru_cache(maxsize=2)
def _replies_statement(writer: bool) -> Select:
    of_threads = (
        Comment.thread_id.in_(bindparam("thread_ids", expanding=True)),
        Comment.parent_id.is_not(None),
    )
    statement = select(Comment).where(*of_threads, Comment.status == "approved")
    if writer:
        held = select(Comment).where(*of_threads, held_by(bindparam("owner_hash")))
        statement = select(Comment).from_statement(union_all(statement, held))
    return statement


def _replies(thread_ids: list[int], owner_hash: str) -> list[Comment]:
    """The shown replies of these threads, oldest first.

    By thread and status alone (a thread's replies are on its post; a page's
    replies are few, and sorted here): with an ORDER BY, or the post in the
    WHERE, or one OR for the writer's held ones, SQLite walked the post's every
    response instead of the index on (thread, status).
    """
    values = {"thread_ids": thread_ids, "owner_hash": owner_hash}
    replies = list(db.session.scalars(_replies_statement(bool(owner_hash)), values))
    replies.sort(key=lambda reply: (reply.created_at, reply.id))
    return replies


def _approved_counts(post_id: int) -> tuple[int, int]:
    """The post's approved responses, and how many of them head a thread.

    Counting reads an index entry per response (about 10 ms at 100,000), and
    the pages that are never cached (a writer's own held comment, saved
    details) would pay it on every view: the counts are kept with the content
    version, which every change a reader can see moves.
    """

    def count() -> tuple[int, int]:
        top_level = func.count(case((Comment.parent_id.is_(None), 1)))
        total, threads = db.session.execute(
            select(func.count(), top_level).where(
                Comment.post_id == post_id, Comment.status == "approved"
            )
        ).one()
        return total, threads

    return kept_for_version(_KEPT, content_version(), ("counts", post_id), count)


# Built once, as the page's own statements: every page made for a writer asks.
_TOP_LEVEL_HELD = select(func.count()).where(
    held_by(bindparam("owner_hash")),
    Comment.post_id == bindparam("post_id"),
    Comment.parent_id.is_(None),
)


def _top_level_held(post_id: int, owner_hash: str) -> int:
    """How many of the post's threads are headed by ``owner_hash``'s held ones."""
    values = {"post_id": post_id, "owner_hash": owner_hash}
    return db.session.scalar(_TOP_LEVEL_HELD, values)


def build_forest(roots: list[Comment], replies: list[Comment]) -> list[Node]:
    """Hang each reply under its parent; a reply whose parent is hidden is hidden.

    A reply deeper than ``DEEPEST_THREAD`` (an imported chain of hundreds) is
    hung beside its parent, as WordPress shows it: the page nests at most that
    deep, and its templates, which recurse once per level, never run out of
    stack."""
    threads = [Node(root) for root in roots]
    nodes = {node.comment.id: node for node in threads}
    holders: dict[int, Node] = {}  # the node each reply was hung under
    # Replies come oldest first, so a parent is always placed before its replies.
    for reply in replies:
        parent = nodes.get(reply.parent_id)
        if parent is None:
            continue
        holder = parent if parent.depth < DEEPEST_THREAD else holders[parent.comment.id]
        node = Node(reply, depth=holder.depth + 1)
        holder.children.append(node)
        nodes[reply.id] = node
        holders[reply.id] = holder
    return threads


def walk(nodes: list[Node]) -> Iterator[Comment]:
    """The comments of ``nodes`` and of their replies, in page order."""
    for node in nodes:
        yield node.comment
        yield from walk(node.children)


def page_anchors(threads: list[Node]) -> dict[int, str]:
    """Each shown comment's ``id`` attribute, unique on the page.

    An imported comment keeps its old blog's ``comment-N`` (old links carry it
    and cannot change); a comment of ours whose id is such an N on the same page
    yields it and is named ``risposta-ID`` instead.
    """
    comments = list(walk(threads))
    old = {c.legacy_id for c in comments if c.legacy_id}
    return {
        c.id: f"risposta-{c.id}" if not c.legacy_id and c.id in old else c.anchor
        for c in comments
    }


@lru_cache(maxsize=4)
def _threads_before(order: str, writer: bool) -> Select:
    """Count the post's threads shown before a root: the approved ones, or
    (``writer``) those the writer holds; built once per shape, as the page's."""
    created_at, root_id = bindparam("created_at"), bindparam("root_id")
    if order == "newest":
        before = or_(
            Comment.created_at > created_at,
            and_(Comment.created_at == created_at, Comment.id > root_id),
        )
    else:
        before = or_(
            Comment.created_at < created_at,
            and_(Comment.created_at == created_at, Comment.id < root_id),
        )
    shown = held_by(bindparam("owner_hash")) if writer else Comment.status == "approved"
    return select(func.count()).where(
        Comment.post_id == bindparam("post_id"),
        Comment.parent_id.is_(None),
        before,
        shown,
    )


def page_of(comment: Comment, settings: CommentSettings, owner_hash: str) -> int:
    """The comment page on which ``comment``'s thread is shown.

    The approved threads before it are counted once per content version (every
    new comment's writer follows a permalink, and anyone may follow any); the
    writer's own held ones, if any, on each request.
    """
    root_id = comment.thread_id or comment.id
    root = comment if root_id == comment.id else db.session.get(Comment, root_id)
    if root is None:
        return 1
    values = {
        "post_id": root.post_id,
        "created_at": root.created_at,
        "root_id": root.id,
        "owner_hash": owner_hash,
    }
    order = settings.comment_order
    earlier = kept_for_version(
        _KEPT,
        content_version(),
        # With its date, which the row read before the version may have had
        # changed since (a ping's date follows its source).
        ("earlier", root.id, root.created_at, order),
        lambda: db.session.scalar(_threads_before(order, writer=False), values),
    )
    if owner_hash:
        earlier += db.session.scalar(_threads_before(order, writer=True), values)
    return earlier // settings.comments_per_page + 1


def comment_by_anchor(post_id: int, number: int) -> Comment | None:
    """The comment ``#comment-N`` names on a page of post ``post_id``: the one
    imported with WordPress id N (the old links' meaning), else ours with id N."""
    named = db.session.scalars(
        select(Comment).where(
            Comment.post_id == post_id,
            or_(
                Comment.legacy_id == number,
                and_(Comment.id == number, Comment.legacy_id.is_(None)),
            ),
        )
    ).all()
    return min(named, key=lambda comment: comment.legacy_id != number, default=None)


def anchor_on_page(
    comment: Comment, page: int, settings: CommentSettings, owner_hash: str
) -> str:
    """The ``id`` ``page_anchors`` gives ``comment`` on its page ``page``."""
    if comment.legacy_id:
        return comment.anchor
    twin = db.session.scalar(
        select(Comment).where(
            Comment.post_id == comment.post_id, Comment.legacy_id == comment.id
        )
    )
    if twin is None or not is_visible(twin, owner_hash):
        return comment.anchor
    if page_of(twin, settings, owner_hash) != page:
        return comment.anchor
    return f"risposta-{comment.id}"
