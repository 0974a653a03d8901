"""Database models: authors, categories, posts, and one table for every response."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter

from sqlalchemy import (
    DDL,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    inspect,
    literal_column,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.elements import ColumnElement

from .core.sanitize.autop import MORE
from .core.sanitize.post import clean_post
from .core.text import words_of_html
from .extensions import db

# Characters of body text a post shows where its excerpt is empty.
SUMMARY_LENGTH = 280
# Characters of markup a listing shows before a <!--more-->, at most.
MAX_TEASER = 20_000


def utcnow() -> datetime:
    """Naive UTC now: every stored datetime is naive UTC, on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class Author(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(120), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(200), default="")
    # Sessions and device cookies carry the version they were made at; raising it
    # (sign-out everywhere, a new password) makes every older one worthless.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    posts: Mapped[list[Post]] = relationship(back_populates="author")


class SignIn(db.Model):
    """One browser's sign-in: its session names it, and signing out deletes it.

    The session cookie is signed but kept by the browser: without this row a
    copy of it (a shared computer, a proxy's log) would outlive the sign-out.
    """

    __tablename__ = "sign_in"

    # SHA-256 of the random token the session holds: the table names no usable
    # session.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("author.id", ondelete="CASCADE"), index=True
    )
    # The author's version when the password was checked: a new password
    # committed meanwhile leaves this sign-in worthless.
    session_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateCounter(db.Model):
    """A fixed-window count the worker processes share (``web.dbstore``): the
    sign-in lock-out's, when the limiter's own storage is per process."""

    __tablename__ = "rate_counter"

    # SHA-256 of the limiter's key: no account name or address in the table.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    # Unix time the window ends; a row past it counts as zero.
    expires_at: Mapped[float] = mapped_column(Float, index=True)


post_categories = Table(
    "post_categories",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # The slug WordPress gave it, when not ``slug`` ("caffè", "новости"): its
    # old archive address leads here (``posts.queries.term_moved``).
    wp_slug: Mapped[str | None] = mapped_column(String(200), index=True)

    posts: Mapped[list[Post]] = relationship(
        secondary=post_categories, back_populates="categories"
    )


class Post(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    # Author markup, sanitised with the wider post whitelist when saved.
    body: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft|published
    # An article ("post": listed, in feeds and archives) or a page ("page":
    # "Chi sono", reached by its address and links only), as in WordPress.
    kind: Mapped[str] = mapped_column(String(10), default="post", server_default="post")
    # A page's place in the site's menu (WordPress's menu_order), then its title.
    menu_order: Mapped[int] = mapped_column(default=0, server_default="0")
    comment_status: Mapped[str] = mapped_column(String(20), default="open")
    ping_status: Mapped[str] = mapped_column(String(20), default="open")
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The permanent id an imported post had on its old blog (WordPress's guid),
    # which its feed entries keep so that readers do not see it as new; empty
    # for our own posts, named ``SITE_URL/?p=ID`` (``core.urls.kept_guid``).
    imported_guid: Mapped[str] = mapped_column(
        String(2000), default="", server_default=literal_column("''")
    )

    author: Mapped[Author] = relationship(back_populates="posts")
    categories: Mapped[list[Category]] = relationship(
        secondary=post_categories, back_populates="posts", order_by="Category.name"
    )
    tags: Mapped[list[Tag]] = relationship(
        secondary="post_tags", back_populates="posts", order_by="Tag.name"
    )

    __table_args__ = (Index("ix_post_status_published", "status", "published_at"),)

    @property
    def is_published(self) -> bool:
        """Whether it is published, rather than a draft readers do not see."""
        return self.status == "published"

    @property
    def is_page(self) -> bool:
        """Whether it is a page (in the site's menu) rather than an article."""
        return self.kind == "page"

    @cached_property
    def teaser_html(self) -> str:
        """The body before its ``<!--more-->``, which listings show; empty for a
        body without one, or whose teaser is too long to be one (a mark near
        the end of a long imported post: the listing shows the summary)."""
        teaser, more, _ = self.body.partition(MORE)
        if not more or len(teaser) > MAX_TEASER:
            return ""
        # Cut where it stands (in a list, a quotation): the cleaner closes
        # what the cut left open.
        return clean_post(teaser)

    @property
    def summary(self) -> str:
        """The excerpt, or the start of the text of the teaser or the body
        (listings and feeds)."""
        if self.excerpt:
            return self.excerpt
        text = words_of_html(self.teaser_html or self.body)
        if len(text) <= SUMMARY_LENGTH:
            return text
        return text[:SUMMARY_LENGTH].rsplit(" ", 1)[0] + "…"

    @property
    def pings_open(self) -> bool:
        """Whether it takes pingbacks and webmentions."""
        return self.ping_status == "open"


COMMENT_TYPES = ("comment", "pingback", "webmention")


def _partial_index(name: str, *columns: str, not_null: str | None = None) -> Index:
    """An index of the rows whose ``not_null`` column (the first by default)
    has a value: the only rows its queries ask for."""
    where = text(f"{not_null or columns[0]} IS NOT NULL")
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


REASON_LENGTH = 300  # a comment's moderation reason, in characters


class Comment(db.Model):
    """A reader's comment, the author's reply, a pingback or a webmention.

    New responses are stored by one INSERT outside the unit of work
    (``comments.operations._insert``): no mapper event (``before_insert``,
    ``after_insert``) runs for them. Listen to ``core.signals.response_inserted``
    instead; a test refuses mapper events on this class.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="SET NULL")
    )
    # Id of the top-level comment of a reply's thread, so a page of threads loads
    # its replies with one query whatever the depth. NULL (or, in rows stored
    # before #12, its own id) for a top-level comment.
    thread_id: Mapped[int | None]
    depth: Mapped[int] = mapped_column(default=1)
    type: Mapped[str] = mapped_column(String(20), default="comment")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    author_name: Mapped[str] = mapped_column(String(245), default="")
    author_email: Mapped[str] = mapped_column(String(100), default="")
    author_url: Mapped[str] = mapped_column(String(200), default="")
    author_ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    # Set when the signed-in author wrote it.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("author.id"))
    # What was typed, and the sanitised HTML made from it at write time.
    content: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str | None] = mapped_column(String(2000))
    source_title: Mapped[str] = mapped_column(String(300), default="")
    # Which rule decided the status, shown to the author in the queue.
    moderation_reason: Mapped[str] = mapped_column(String(REASON_LENGTH), default="")
    # The status before it went to spam or trash, for "Non è spam" / "Ripristina".
    status_before: Mapped[str] = mapped_column(String(20), default="")
    # Hash of the token held by the browser that wrote it (pending view, returning
    # commenter proof); never the token itself.
    owner_token_hash: Mapped[str] = mapped_column(String(64), default="")
    # The id the comment had on the blog it was imported from (WordPress), so
    # the page keeps its old ``#comment-N`` anchor (#15).
    legacy_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When its writer last changed the text (#14): the page says "modificato".
    edited_at: Mapped[datetime | None] = mapped_column()
    # Its held notice is still to reach the author. The mail job turns these
    # marks into outbox rows (``comments.notices.relay_held_marks``), so that
    # storing a held response writes its row and nothing else.
    notice_due: Mapped[bool] = mapped_column(default=False, server_default=false())

    post: Mapped[Post] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side="Comment.id")
    author: Mapped[Author | None] = relationship()

    __table_args__ = (
        UniqueConstraint("post_id", "source_url", name="uq_comment_post_source"),
        # A post's threads by status, in date order (a page's threads at any
        # offset, either order) and their counts, from the index alone.
        Index(
            "ix_comment_post_status_parent_created",
            "post_id",
            "status",
            "parent_id",
            "created_at",
            "id",
        ),
        Index("ix_comment_status_created", "status", "created_at"),
        Index("ix_comment_type_status", "type", "status"),
        # A browser's responses by status (the proof of an approved one; its held
        # ones on a post's page and before a thread, counted from the index
        # alone): one token may hold thousands of held responses.
        Index(
            "ix_comment_owner_post",
            "owner_token_hash",
            "status",
            "post_id",
            "parent_id",
            "created_at",
            "id",
        ),
        # The replies of a page's threads; a comment's replies, for the reader's
        # edit window ("has it an answer?"); an imported comment whose old id is
        # another's anchor (the permalink). Only the rows that have the column:
        # a new top-level comment has none of the three, and skips their indexes.
        _partial_index("ix_comment_thread_status", "thread_id", "status"),
        _partial_index("ix_comment_parent_status", "parent_id", "status"),
        _partial_index(
            "ix_comment_post_legacy", "post_id", "legacy_id", not_null="legacy_id"
        ),
        # The flood rule looks up a sender's latest comment by IP and by email.
        Index("ix_comment_ip_created", "author_ip", "created_at"),
        Index("ix_comment_email_created", "author_email", "created_at"),
        # The moderation queue's pages, newest first: all views, by post, by type.
        Index("ix_comment_created", "created_at", "id"),
        Index("ix_comment_post_created", "post_id", "created_at", "id"),
        Index("ix_comment_type_created", "type", "created_at", "id"),
    )

    @property
    def is_ping(self) -> bool:
        """Whether a site sent it (pingback, webmention), not a reader."""
        return self.type in ("pingback", "webmention")

    @property
    def anchor(self) -> str:
        """The fragment naming it on its page: the old blog's id when imported."""
        return f"comment-{self.legacy_id or self.id}"

    @validates("moderation_reason")
    def _fit_reason(self, key: str, reason: str) -> str:
        # Reasons quote what the rules matched (a word of the author's lists, a
        # blocked address): cut to the column, which PostgreSQL enforces.
        if len(reason) <= REASON_LENGTH:
            return reason
        return reason[: REASON_LENGTH - 1] + "…"


# The duplicate rule looks for the same text on the same post. Indexed by the
# text's first characters (an index on the whole text would copy every text),
# so that a post with 20,000 comments is not read whole for each new one.
CONTENT_HEAD = 64


def content_head(text: ColumnElement[str]) -> ColumnElement[str]:
    """The start of ``text`` as the index keeps it: literal bounds, so that
    SQLite matches the query's expression to the index's."""
    return func.substr(text, literal_column("1"), literal_column(str(CONTENT_HEAD)))


def content_tail(text: ColumnElement[str]) -> ColumnElement[str]:
    """The rest of ``text`` after its head ('' for a short one): equal heads
    and equal tails are equal texts (SQLite's substr stops at a NUL, which
    no stored text holds: the request guard refuses it)."""
    return func.substr(text, literal_column(str(CONTENT_HEAD + 1)))


Index("ix_comment_post_content", Comment.post_id, content_head(Comment.content))
# The marks waiting for the mail job, and only those: a row leaves the index
# when its mark is taken.
Index(
    "ix_comment_notice_due",
    Comment.id,
    sqlite_where=Comment.notice_due == true(),
    postgresql_where=Comment.notice_due == true(),
)


class Setting(db.Model):
    """An author-edited override of a config default (comment settings)."""

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class OutboundPing(db.Model):
    """A webmention or pingback we sent (or tried to) for a link in a post."""

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    target_url: Mapped[str] = mapped_column(String(2000))
    method: Mapped[str] = mapped_column(String(20), default="")  # webmention|pingback
    endpoint: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    result: Mapped[str] = mapped_column(Text, default="")
    attempted_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (UniqueConstraint("post_id", "target_url", name="uq_ping_target"),)


class WebmentionRequest(db.Model):
    """A received webmention waiting for, or done with, verification."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(2000))
    target: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    result: Mapped[str] = mapped_column(Text, default="")
    requester_ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- #14: commenters and the author own their data ---------------------------


class Block(db.Model):
    """A sender the author blocked: new responses from it go straight to spam."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # email|domain|ip|network
    # Normalised: a lower-case address or host, an address, a network in CIDR.
    value: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Value first: a response's few candidate values are looked up in one query.
    __table_args__ = (UniqueConstraint("value", "kind", name="uq_block_value_kind"),)


# --- Issue #13: the mail outbox, readers' subscriptions, single-use tokens ---


class OutboxMessage(db.Model):
    """A mail to send: a kind and the id it is about, rendered when it is sent."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Which registered renderer makes the message (blog.mail.outbox.register).
    kind: Mapped[str] = mapped_column(String(30))
    ref_id: Mapped[int | None] = mapped_column()
    # Set for mail to a reader (confirmation, notification); '' for the author.
    recipient: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # When it may be tried (again); while "sending", when its claim runs out.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        Index("ix_mail_outbox_recipient", "recipient", "kind", "created_at"),
        Index("ix_mail_outbox_ref", "kind", "ref_id"),
        Index("ix_mail_outbox_kind_created", "kind", "created_at"),
        Index("ix_mail_outbox_kind_sent", "kind", "status", "sent_at"),
    )


class Subscription(db.Model):
    """A reader's wish to be mailed about replies to a comment, or a whole post."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    # The reader's own comment: replies to it; None: every new comment of the post.
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The browser that asked (its comment's owner token hash; None if unknown)
    # and when the address's owner confirmed this subscription: until then it
    # mails nothing. A browser with a confirmed subscription of the address
    # needs no new confirmation; any other browser does, so that nobody can
    # subscribe an address somebody else once confirmed.
    owner_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)

    post: Mapped[Post] = relationship()

    # An address's subscriptions to one post: a wave's comments, each held
    # with its own, are moved to spam one by one (their subscriptions end),
    # and the post's index alone would read every one of them each time.
    __table_args__ = (Index("ix_subscription_email_post", "email", "post_id"),)


class ConfirmedAddress(db.Model):
    """An email address whose owner confirmed it wants our notifications."""

    __tablename__ = "confirmed_address"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsedToken(db.Model):
    """A single-use token already spent (its hash), refused a second time."""

    __tablename__ = "used_token"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- #15: old addresses and tags of an imported blog -------------------------


class OldPath(db.Model):
    """An address the post had on the old blog; it answers 301 to the post."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # Path (and ``?p=N`` query) as the old blog wrote it, normalised by
    # ``blog.posts.oldpaths.normalise_path``.
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(20), default="wordpress")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship()


post_tags = Table(
    "post_tags",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    """A WordPress tag (``post_tag``) kept from an import, served at /tag/<slug>/."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    wp_slug: Mapped[str | None] = mapped_column(
        String(200), index=True
    )  # as Category's

    posts: Mapped[list[Post]] = relationship(secondary=post_tags, back_populates="tags")


# Full-text search over posts (#15). SQLite: an FTS5 index kept by triggers
# (unicode61 folds accents; SQLite has no Italian stemmer). PostgreSQL: a GIN
# index on the Italian tsvector of title and body, which the search query uses.
# Made here for create_all and in migration 0006 for migrated databases.
SEARCH_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(title, body,"
    " content='post', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS post_fts_insert AFTER INSERT ON post BEGIN"
    " INSERT INTO post_fts(rowid, title, body)"
    " VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS post_fts_delete AFTER DELETE ON post BEGIN"
    " INSERT INTO post_fts(post_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS post_fts_update AFTER UPDATE ON post BEGIN"
    " INSERT INTO post_fts(post_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " INSERT INTO post_fts(rowid, title, body)"
    " VALUES (new.id, new.title, new.body); END",
)
SEARCH_POSTGRESQL = (
    "CREATE INDEX IF NOT EXISTS ix_post_search ON post USING gin"
    " (to_tsvector('italian', title || ' ' || body))",
)


def outside_search_index(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name``: the search index is no model, comparisons skip it."""
    if type_ == "table" and name and name.startswith("post_fts"):
        return False
    return not (type_ == "index" and name == "ix_post_search")


for _statement in SEARCH_SQLITE:
    event.listen(
        Post.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in SEARCH_POSTGRESQL:
    event.listen(
        Post.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect="postgresql"),
    )


# Every column of a response, in one tuple: what a kept fragment showing it
# is kept under (``blog.core.memo.markup_store``), so that any change to it
# makes a new key. (The mappers are complete only here, after every model.)
comment_values = attrgetter(*(a.key for a in inspect(Comment).column_attrs))
