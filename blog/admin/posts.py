"""Writing posts: slugs, categories, publishing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update

from ..core.localtime import dated_ahead, local_time, utc_time
from ..core.sanitize.autop import clean_written_post
from ..core.settings import UNSEEN_BY_READERS
from ..core.signals import post_published, post_saved
from ..core.text import one_line
from ..database import free_slug
from ..extensions import db
from ..models import Author, Category, OldPath, Post, utcnow
from ..posts.categories import category_slug, get_or_create_category
from ..posts.oldpaths import normalise_path, record_paths
from ..posts.slugs import post_slug, slug_refusal


class PostError(ValueError):
    """A field that cannot be saved as typed: (field name, Italian message),
    and the status the editor answers with."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class PostData:
    """What the editor submitted, as plain values."""

    title: str
    slug: str = ""
    body: str = ""
    excerpt: str = ""
    categories: str = ""
    published_at: datetime | None = None
    status: str = "draft"
    kind: str = "post"  # or "page"
    menu_order: int = 0  # a page's place in the menu
    comment_status: str = "open"
    ping_status: str = "open"
    # The post's revision the editor was opened on (``revision_of``); None
    # saves whatever was saved meanwhile.
    revision: str | None = None


def choose_slug(data: PostData, post_id: int | None) -> str:
    """The slug typed, or made from the title; unique among posts. A typed
    slug another post has is refused; one made from a title another post
    shares takes the first free ``-2``, ``-3``…, as WordPress does."""
    slug = post_slug(data.slug or data.title)
    refusal = slug_refusal(slug)
    if refusal:
        raise PostError("slug", refusal)
    clash = db.session.scalar(
        select(Post.id).where(Post.slug == slug, Post.id != (post_id or 0))
    )
    if clash and data.slug:
        raise PostError(
            "slug", f"Lo slug «{slug}» è già usato da un altro articolo: cambialo."
        )
    if not clash:
        return slug
    # Its own numbered form already (doppione-2): kept, not moved at each save.
    current = db.session.scalar(select(Post.slug).where(Post.id == (post_id or 0)))
    if current and re.fullmatch(rf"{re.escape(slug)}-\d+", current):
        return current
    return free_slug(Post.slug, slug)


def parse_categories(text: str) -> list[Category]:
    """Categories from comma-separated names, created when missing, no repeats."""
    found: dict[str, Category] = {}
    for name in (one_line(part)[:120] for part in text.split(",")):
        slug = category_slug(name)
        if slug and slug not in found:
            found[slug] = get_or_create_category(name)
    return list(found.values())


# The date is typed in the blog's zone (TIMEZONE) and read as such: a few
# minutes ahead are the author's clock, not a schedule (``dated_ahead``).
FUTURE_MESSAGE = (
    "La data di pubblicazione è nel futuro: questo blog non programma le "
    "pubblicazioni. Lascia vuota la data per pubblicare ora."
)


def save_post(post: Post | None, data: PostData, author: Author) -> Post:
    """Create or update a post from the editor (the caller commits, then
    calls ``announce_post``)."""
    if data.status == "published":
        refuse_future_date(data.published_at)
    if post is not None and data.revision is not None:
        claim_revision(post, data.revision)
    slug = choose_slug(data, post.id if post else None)
    if post is None:
        post = Post(author=author)
        db.session.add(post)
    elif post.is_published and post.slug != slug:
        # As WordPress keeps a renamed post's old slug: its links still land.
        record_paths(post, [normalise_path(f"/{post.slug}/")], "editor")
    post.title = data.title.strip()
    post.slug = slug
    post.body = clean_written_post(data.body)
    post.excerpt = data.excerpt.strip()
    post.categories = parse_categories(data.categories)
    post.status = data.status if data.status in ("draft", "published") else "draft"
    post.kind = "page" if data.kind == "page" else "post"
    post.menu_order = data.menu_order
    post.comment_status = "closed" if data.comment_status == "closed" else "open"
    post.ping_status = "closed" if data.ping_status == "closed" else "open"
    post.published_at = data.published_at
    # Every save is a new revision, a change of categories alone too (they
    # live in another table, which the row's onupdate never hears of).
    post.updated_at = utcnow()
    if post.status == "published":
        publish(post)  # dated now when no date was typed
    return post


EDITED_MEANWHILE = (
    "Dopo che hai aperto questa pagina l'articolo è stato salvato da un'altra "
    "finestra o da un altro dispositivo: salvando ora sostituiresti quelle "
    "modifiche. Aprilo in un'altra scheda per confrontare; se vuoi tenere "
    "questa versione, premi di nuovo «Salva»."
)


def revision_of(post: Post) -> str:
    """Which saved version of ``post`` an editor shows: its last change."""
    return post.updated_at.isoformat()


def claim_revision(post: Post, revision: str) -> None:
    """Go on with this save only if ``post`` is still at ``revision``, or refuse
    with 409: two editors open on one post must not overwrite each other
    unawares. The row is read by a write that changes nothing, which keeps
    another save away until this one commits."""
    current = db.session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(updated_at=Post.updated_at)
        .returning(Post.updated_at),
        execution_options={"synchronize_session": False, UNSEEN_BY_READERS: True},
    ).scalar_one()
    # Compared as moments: how the database spells them is its own affair.
    if revision != current.isoformat():
        raise PostError("body", EDITED_MEANWHILE, 409)


def stored_date(post: Post | None, typed: datetime | None) -> datetime | None:
    """The moment to store for the date the editor sent, typed in the blog's
    time zone: in UTC, except that the date the editor showed, sent back
    unchanged, keeps the stored moment (the form shows minutes in local time,
    which drops seconds and, in the hour the clocks go back, cannot tell its
    two 02:30s apart)."""
    if typed is None:
        return None
    stored = post.published_at if post is not None else None
    if stored is not None and typed == local_time(stored).replace(
        second=0, microsecond=0
    ):
        return stored
    return utc_time(typed)


def refuse_future_date(published_at: datetime | None) -> None:
    """Raise PostError for a date ahead of now: there is no scheduling, and a
    post published at once with it would head the home page and feeds until
    then."""
    if dated_ahead(published_at):
        raise PostError("published_at", FUTURE_MESSAGE)


def publish(post: Post) -> None:
    """Make a draft public now (its date kept when it has one); PostError for a
    draft dated ahead of now."""
    refuse_future_date(post.published_at)
    post.status = "published"
    # Its address is a live one now: no longer any post's old address (a post
    # renamed back, another taking the slug a renamed one left). Not before:
    # a draft's address serves nothing, and the old one still leads on.
    db.session.execute(
        delete(OldPath).where(OldPath.path == normalise_path(f"/{post.slug}/"))
    )
    if post.published_at is None:
        post.published_at = utcnow().replace(second=0, microsecond=0)


def announce_post(post: Post, earlier_address: str | None = None) -> None:
    """Tell subscribers (outbound pings) a post was saved, and a published one
    that it is new or changed; ``earlier_address`` is where it was published
    before this save."""
    app = current_app._get_current_object()
    post_saved.send(app, post=post, earlier_address=earlier_address)
    if post.is_published:
        post_published.send(app, post=post)
