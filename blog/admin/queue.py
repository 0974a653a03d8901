"""The moderation queue's read side: counts and one page of responses.

Every page costs the same few queries whatever the table's size: one grouped
count (index-only), one page of rows with their post and parent joined in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, literal, or_, select
from sqlalchemy.orm import aliased, contains_eager

from ..core.memo import kept_for_version
from ..core.settings import RESPONSES_VERSION_KEY
from ..core.text import positive_int, row_id
from ..database import like_escaped, lowercase
from ..extensions import db
from ..models import COMMENT_TYPES, Comment, Post, Setting

PER_PAGE = 20
# Rows a page may show, as the author picks them (WordPress's screen options):
# a spam wave of thousands is cleared 200 at a time.
PER_PAGE_CHOICES = (20, 50, 100, 200)
# What this module keeps per responses version (``blog.core.memo``).
_KEPT = "admin.status_counts"
MAX_PAGE = 100_000
# View name -> Italian tab label; "Tutti" is what the public may see or soon will.
VIEWS = {
    "all": "Tutti",
    "pending": "In attesa",
    "approved": "Approvati",
    "spam": "Spam",
    "trash": "Cestino",
}


# What the counts are kept by: every commit that changes a response moves the
# responses version, but on SQLite one that only stores new responses, which
# moves the latest id instead: there one writer at a time commits ids in their
# order, and a deletion (after which an id may come again) moves the version.
_COUNTS_STAMP = select(
    select(Setting.value).where(Setting.key == RESPONSES_VERSION_KEY).scalar_subquery(),
    select(func.max(Comment.id)).scalar_subquery(),
)


def status_counts() -> dict[str, int]:
    """Responses per status, plus ``all`` (pending and approved).

    Counting scans an index of every response (about 10 ms at 100,000), so the
    counts are kept with the responses version and the latest id.
    """
    version, latest = db.session.execute(_COUNTS_STAMP).one()
    stamp = f"{version or ''}/{latest or 0}"
    return dict(kept_for_version(_KEPT, stamp, "", _count))


def _count() -> dict[str, int]:
    rows = db.session.execute(
        select(Comment.status, func.count()).group_by(Comment.status)
    ).all()
    counts = {status: 0 for status in VIEWS}
    for status, number in rows:
        counts[status] = number
    counts["all"] = counts["pending"] + counts["approved"]
    return counts


@dataclass(frozen=True)
class QueueQuery:
    """What the author asked the queue to show."""

    view: str = "all"
    search: str = ""
    post_id: int | None = None
    type: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueQuery:
        """Read the query string leniently: anything odd falls back to a default."""
        view = args.get("view", "all")
        post = args.get("post", "")
        page = args.get("page", "1")
        kind = args.get("type", "")
        per_page = positive_int(args.get("n", ""), max(PER_PAGE_CHOICES) + 1)
        return cls(
            view=view if view in VIEWS else "all",
            search=args.get("s", "").strip()[:200],
            post_id=row_id(post),
            type=kind if kind in COMMENT_TYPES else "",
            page=positive_int(page, MAX_PAGE + 1) or 1,
            per_page=per_page if per_page in PER_PAGE_CHOICES else PER_PAGE,
        )

    @property
    def filtered(self) -> bool:
        """Whether rows are narrowed beyond the view (so the view's count is off)."""
        return bool(self.search or self.post_id or self.type)

    def args(self, **changes: str | int) -> dict[str, str | int]:
        """Query-string arguments for a link to this list, with ``changes``."""
        values = {
            "view": self.view,
            "s": self.search,
            "post": self.post_id or "",
            "type": self.type,
            "page": self.page,
            "n": self.per_page,
            **changes,
        }
        defaults = {"view": "all", "page": 1, "n": PER_PAGE}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}


def _matches(column, pattern: str):
    if pattern.isascii():
        return column.ilike(pattern, escape="/")
    # SQLite's ILIKE folds ASCII letters only ("È" would not find "è"): both
    # sides lowered by the database, at the price of a function call a row.
    return lowercase(column).like(lowercase(literal(pattern)), escape="/")


def queue_statement(query: QueueQuery) -> Select:
    """Ids of the responses matching ``query``, newest first.

    Paging walks ids only, so a deep page skips index entries rather than rows.
    """
    statement = select(Comment.id).order_by(
        Comment.created_at.desc(), Comment.id.desc()
    )
    if query.view == "all":
        # Two inequalities rather than IN: the planner then walks the date index
        # newest first instead of sorting every pending and approved row.
        statement = statement.where(Comment.status != "spam", Comment.status != "trash")
    else:
        statement = statement.where(Comment.status == query.view)
    if query.post_id:
        statement = statement.where(Comment.post_id == query.post_id)
    if query.type:
        statement = statement.where(Comment.type == query.type)
    if query.search:
        pattern = f"%{like_escaped(query.search)}%"
        columns = (
            Comment.author_name,
            Comment.author_email,
            Comment.author_url,
            Comment.author_ip,
            Comment.content,
        )
        statement = statement.where(or_(*(_matches(c, pattern) for c in columns)))
    return statement


_parent = aliased(Comment)
# Built once, the ids bound at each call: building it took a third of the
# query's time. Of the post, a row shows the title and links to the slug: its
# body, joined to each of the 20 rows, would be read 20 times.
_LOAD_COMMENTS = (
    select(Comment)
    .join(Comment.post)
    .outerjoin(_parent, Comment.parent)
    .options(
        contains_eager(Comment.post).load_only(Post.id, Post.slug, Post.title),
        contains_eager(Comment.parent, alias=_parent),
    )
    .where(Comment.id.in_(bindparam("ids", expanding=True)))
    .order_by(Comment.created_at.desc(), Comment.id.desc())
)


def load_comments(ids: list[int]) -> list[Comment]:
    """The responses with these ids, newest first, post and parent joined in."""
    if not ids:
        return []
    rows = db.session.scalars(_LOAD_COMMENTS, {"ids": ids})
    return list(rows.unique().all())


@dataclass
class QueuePage:
    items: list[Comment]
    page: int
    per_page: int
    has_next: bool
    total: int | None = None  # known only when no search or filter narrows the view
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def has_prev(self) -> bool:
        """Whether a page comes before this one."""
        return self.page > 1

    @property
    def pages(self) -> int | None:
        """How many pages the view fills; None when a search or filter narrows it."""
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))


def queue_page(query: QueueQuery, counts: dict[str, int]) -> QueuePage:
    """One page of the queue; the total comes from ``counts``, never a COUNT(*)."""
    per_page = query.per_page
    ids = db.session.scalars(
        queue_statement(query).limit(per_page + 1).offset((query.page - 1) * per_page)
    ).all()
    return QueuePage(
        items=load_comments(list(ids[:per_page])),
        page=query.page,
        per_page=per_page,
        has_next=len(ids) > per_page,
        total=None if query.filtered else counts[query.view],
        counts=counts,
    )


def latest_responses(limit: int = 5) -> list[Comment]:
    """The newest responses not in spam or trash, for the dashboard."""
    ids = db.session.scalars(queue_statement(QueueQuery()).limit(limit)).all()
    return load_comments(list(ids))


def post_choices() -> list[tuple[int, str]]:
    """(id, title) of every post, for the queue's post filter."""
    return list(db.session.execute(select(Post.id, Post.title).order_by(Post.title)))
