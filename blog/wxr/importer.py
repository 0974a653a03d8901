"""Add a parsed WordPress export to the database, only what is missing.

Matching makes a second import of the same file change nothing: authors by
login, categories and tags by slug, posts by an old address an earlier import
recorded (else by slug), comments by post + WordPress id (pingbacks by post +
source URL; comments without an id by type + author name + date). Existing rows
are never modified.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from ..accounts.authors import find_author
from ..comments.notices import QUIET
from ..comments.operations import NewResponse, add_response
from ..core.localtime import dated_ahead
from ..core.sanitize.autop import clean_written_post
from ..core.text import slugify, web_url_or_empty
from ..database import free_slug
from ..extensions import db
from ..models import Author, Category, Comment, Post, Tag, utcnow
from ..posts.oldpaths import (
    ID_QUERIES,
    NUMBERED_PATHS,
    attachment_paths,
    normalise_path,
    old_slug_paths,
    record_paths,
    wordpress_paths,
)
from .matching import (
    comment_key,
    comment_number,
    imported_before,
    same_site,
    same_writer,
)
from .names import (
    HTML_TAGS,
    fit,
    fitting_url,
    keep_wordpress_slug,
    new_slug,
    nicename,
    ping_excerpt,
    plain_title,
    post_title,
    term_name,
    term_slug,
)
from .reader import WxrAuthor, WxrCategory, WxrComment, WxrPost, WxrSite
from .shortcodes import Attachment, Attachments, expand_shortcodes

_GUID_LENGTH = Post.imported_guid.type.length
POST_STATUSES = {"publish": "published", "draft": "draft", "pending": "draft"}
POST_STATUSES |= {"future": "draft", "private": "draft"}
# WordPress's post types imported, and their line in the summary.
POST_KINDS = {"post": "posts", "page": "pages"}
COMMENT_STATUSES = {"1": "approved", "0": "pending", "spam": "spam"}
COMMENT_STATUSES |= {"trash": "trash", "post-trashed": "trash"}
WXR_COMMENT_TYPES = {"": "comment", "comment": "comment", "pingback": "pingback"}
WXR_COMMENT_TYPES |= {"trackback": "pingback", "webmention": "webmention"}
_IMAGE_HOST = re.compile(r'<img\b[^>]*?\ssrc="https?://([^/"?#]+)', re.IGNORECASE)


@dataclass
class ImportReport:
    """What an import added and what it left out, counted by kind."""

    created: Counter = field(default_factory=Counter)
    existing: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    drafted: Counter = field(default_factory=Counter)  # imported, not published
    # Shortcodes of plugins, left as text in the posts (``shortcodes``).
    shortcodes_left: Counter = field(default_factory=Counter)
    # Images the imported posts still show from another site, by its host.
    images_elsewhere: Counter = field(default_factory=Counter)
    # (slug of the file, slug here) of posts whose slug a post here had.
    renamed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line per kind, for the command's output."""
        kinds = ("authors", "categories", "tags", "posts", "pages", "comments")
        kinds += ("pingbacks",)
        kinds += ("old addresses",)
        lines = [
            f"{kind}: {self.created[kind]} added, {self.existing[kind]} already present"
            for kind in kinds
        ]
        lines += [f"skipped {why}: {n}" for why, n in sorted(self.skipped.items())]
        lines += [f"kept as drafts, {why}: {n}" for why, n in self.drafted.items()]
        lines += [
            f"shortcode left as text, {name}: {n}"
            for name, n in sorted(self.shortcodes_left.items())
        ]
        lines += [
            f"slug taken (here, or earlier in the file), imported as {new}: {old}"
            for old, new in self.renamed
        ]
        lines += [
            f"images still served by {host}: {n} (to keep them once that site is"
            " gone, see the README, «Images of the old blog»)"
            for host, n in sorted(self.images_elsewhere.items())
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class _NewComment:
    """A comment of the file not in the database yet, with its mapped values."""

    data: WxrComment
    name: str  # its author's, as text
    kind: str
    status: str
    source: str | None


class _Importer:
    def __init__(
        self, attachments: Attachments, own_export: bool, slugs: set[str]
    ) -> None:
        self.report = ImportReport()
        self.attachments = attachments
        # This blog's own export: its links and numbers are addresses here.
        self.own_export = own_export
        self.authors: dict[str, Author] = {}
        self.authors_by_wp_id: dict[int, Author] = {}
        self.categories_seen: set[str] = set()
        self.tags: dict[str, Tag] = {}
        # Addresses recorded once every item's others are (``record_yielding``).
        self.yielding: list[tuple[Post, list[str]]] = []
        # The file's slugs, as paths: no post's old slug takes one of them.
        self.slugs = slugs
        self.posts_by_wp_id: dict[int, Post] = {}
        self.attachment_pages: list[WxrPost] = []

    def author(self, data: WxrAuthor) -> Author:
        login = fit(data.login, Author.username)
        author = find_author(login)  # as sign-in matches it: any case
        if author is None:
            display_name = fit(
                plain_title(data.display_name) or login, Author.display_name
            )
            # Its archive keeps WordPress's address, made from the login.
            slug = nicename(login) or slugify(display_name)
            slug = fit(slug, Author.slug).strip("-")
            author = Author(
                username=login,
                slug=free_slug(Author.slug, slug or "autore"),
                display_name=display_name,
                email=data.email,
            )
            db.session.add(author)
            db.session.flush()
            self.report.created["authors"] += 1
        else:
            self.report.existing["authors"] += 1
        self.authors[data.login] = author
        self.authors_by_wp_id[data.wp_id] = author
        return author

    def category(self, data: WxrCategory) -> Category:
        slug = term_slug(data)
        category = db.session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            category = Category(name=term_name(data, slug), slug=slug)
            db.session.add(category)
            db.session.flush()
            self.report.created["categories"] += 1
        elif slug not in self.categories_seen:
            self.report.existing["categories"] += 1
        self.categories_seen.add(slug)
        keep_wordpress_slug(category, data)
        return category

    def tag(self, data: WxrCategory) -> Tag:
        slug = term_slug(data)
        if slug in self.tags:
            return self.tags[slug]
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(name=term_name(data, slug), slug=slug)
            db.session.add(tag)
            self.report.created["tags"] += 1
        else:
            self.report.existing["tags"] += 1
        self.tags[slug] = tag
        keep_wordpress_slug(tag, data)
        return tag

    def post(self, data: WxrPost) -> None:
        if data.post_type == "attachment":
            self.attachment_pages.append(data)
        if data.post_type not in POST_KINDS:
            self.report.skipped[f"{data.post_type or 'unknown'} items"] += 1
            return
        if data.status not in POST_STATUSES:
            self.report.skipped[f"posts with status {data.status or '?'}"] += 1
            return
        paths = wordpress_paths(
            data.link,
            data.guid,
            data.wp_id,
            data.old_paths,
            page=data.post_type == "page",
        )
        old_slugs = old_slug_paths(data.link, data.slug, data.old_slugs)
        # Renamed and retitled in WordPress since the last import, a post is
        # found by its old slugs' permalinks, which that import recorded (not
        # by one another item of the file has as its slug now).
        post = imported_before(
            data, paths + [path for path in old_slugs if path not in self.slugs]
        )
        if post is None:
            post = self._new_post(data)
            self.report.created[POST_KINDS[data.post_type]] += 1
        else:
            self.report.existing[POST_KINDS[data.post_type]] += 1
        if self.own_export:
            # Its addresses here need no record (any other blog's do, even the
            # same path: the post's slug may change here later).
            own = {normalise_path(f"/{post.slug}/")}
            own |= {f"/?{name}={post.id}" for name in ID_QUERIES}
            paths = [path for path in paths if path not in own]
        # The numbers of the blog that wrote the file (its guid, wp:post_id)
        # give way to the WordPress ones its own export carries along (another
        # item's OLD_ADDRESS): its post 2 is not WordPress's post 2.
        carried = wordpress_paths("", "", 0, data.old_paths)
        numbered = [
            path
            for path in paths
            if path.startswith(NUMBERED_PATHS) and path not in carried
        ]
        renamed = [path for path in old_slugs if not self._a_current_slug(path, post)]
        # Its old slugs give way as well: to another item's permalink.
        self.yielding.append((post, numbered + renamed))
        self.record(post, [path for path in paths if path not in numbered])
        self.posts_by_wp_id[data.wp_id] = post
        self.comments(post, data.comments)

    def _a_current_slug(self, path: str, post: Post) -> bool:
        # As WordPress, which looks an old slug up only when no post has it
        # now: here or in the file (another post may be renamed here later).
        if path in self.slugs:
            return True
        other = select(Post.id).where(Post.slug == path[1:], Post.id != post.id)
        return db.session.scalar(other.limit(1)) is not None

    def record(self, post: Post, paths: list[str]) -> None:
        added = record_paths(post, paths, "wordpress")
        self.report.created["old addresses"] += added
        self.report.existing["old addresses"] += len(paths) - added

    def record_attachment_pages(self) -> None:
        """An attachment's page (its permalink, ``?attachment_id=``, ``?p=``)
        leads to the post it belongs to: the blog has no pages of files. Its
        guid, the file itself, is left alone: a file's address is no page."""
        for data in self.attachment_pages:
            post = self.posts_by_wp_id.get(data.parent_id)
            if post is not None:
                # After every post's own: a permalink a post has wins.
                paths = attachment_paths(data.link, data.wp_id)
                self.yielding.append((post, paths))

    def record_yielding(self) -> None:
        """The addresses that give way, once every item's others are recorded,
        whatever the order of the items in the file."""
        for post, paths in self.yielding:
            self.record(post, paths)

    def _new_post(self, data: WxrPost) -> Post:
        # An item without dc:creator is admin's, looked up once, counted once.
        login = data.creator or "admin"
        author = self.authors.get(login) or self.author(
            WxrAuthor(wp_id=0, login=login, email="", display_name="")
        )
        title = post_title(data)
        # Drafts come without a slug, made from the title: two "Bozza" are
        # two posts.
        wanted = new_slug(data, title)
        slug = free_slug(Post.slug, wanted)
        if data.slug and slug != wanted:
            self.report.renamed.append((wanted, slug))
        status = POST_STATUSES[data.status]
        if data.password and status == "published":
            # No post here takes a password: it waits for the author instead
            # of showing everybody what WordPress kept for a few.
            status = "draft"
            self.report.drafted["password-protected posts"] += 1
        if status == "published" and dated_ahead(data.published_at):
            # It would head the home page and the feeds until then: the editor
            # refuses such a date, and WordPress itself would have scheduled it.
            status = "draft"
            self.report.drafted["posts dated in the future"] += 1
        body = clean_written_post(
            expand_shortcodes(
                data.content, data.wp_id, self.attachments, self.report.shortcodes_left
            )
        )
        self.report.images_elsewhere.update(_IMAGE_HOST.findall(body))
        post = Post(
            slug=slug,
            title=title or slug,
            # Its feed entries keep the old blog's id: readers know them.
            imported_guid=data.guid if len(data.guid) <= _GUID_LENGTH else "",
            body=body,
            excerpt=HTML_TAGS.sub("", data.excerpt).strip(),
            author=author,
            status=status,
            kind=data.post_type,
            menu_order=data.menu_order,
            comment_status="open" if data.comment_status == "open" else "closed",
            ping_status="open" if data.ping_status == "open" else "closed",
            # Published without a date: dated now, as WordPress's importer does.
            published_at=(data.published_at or utcnow())
            if status == "published"
            else None,
            categories=list(
                {term_slug(c): self.category(c) for c in data.categories}.values()
            ),
            tags=list({term_slug(t): self.tag(t) for t in data.tags}.values()),
        )
        if data.published_at:
            post.created_at = data.published_at
        if data.modified_at:
            post.updated_at = data.modified_at
        db.session.add(post)
        db.session.flush()
        return post

    def comments(self, post: Post, comments: list[WxrComment]) -> None:
        present = db.session.scalars(
            select(Comment).where(Comment.post_id == post.id)
        ).all()
        stored = {
            comment_key(c.type, c.author_name, c.created_at, c.source_url): c
            for c in present
        }
        # The ids an earlier import kept: two comments may share a writer and
        # a second, never an id.
        stored_ids = {
            c.legacy_id: comment_key(c.type, c.author_name, c.created_at, c.source_url)
            for c in present
            if c.legacy_id
        }
        # WordPress id -> key, for the parents (0 is "no parent", never an id).
        keys: dict[int | None, tuple] = {}
        new: dict[tuple, _NewComment] = {}
        for data in comments:
            kind = WXR_COMMENT_TYPES.get(data.type)
            status = COMMENT_STATUSES.get(data.approved)
            if kind is None or status is None:
                self.report.skipped[f"comments of type {data.type!r}"] += 1
                continue
            source = None
            if kind != "comment":
                source = web_url_or_empty(data.author_url) or None
            name = fit(plain_title(data.author_name), Comment.author_name)
            key = comment_key(kind, name, data.created_at, source)
            # An import before names were made text kept them raw.
            raw_key = comment_key(kind, data.author_name, data.created_at, source)
            if raw_key in stored:
                key = raw_key
            number = comment_number(data)
            if number in stored_ids and same_writer(
                stored[stored_ids[number]], kind, name
            ):
                # The id alone could be another source's (this blog's own
                # export writes its own ids).
                key = stored_ids[number]
            elif key[0] != "ping" and number and self._another(stored.get(key), number):
                key = ("wp", number)
            counter = "comments" if kind == "comment" else "pingbacks"
            if key in stored or key in new:
                self.report.existing[counter] += 1
                self._keep_old_anchor(stored.get(key), number, stored_ids, key)
            else:
                new[key] = _NewComment(data, name, kind, status, source)
                self.report.created[counter] += 1
            keys[data.wp_id] = key

        for key in new:
            self._add_with_parents(post, key, new, keys, stored)

    @staticmethod
    def _another(comment: Comment | None, number: int) -> bool:
        # No comment here has the writer and second of the file's, or the one
        # that has them came with another WordPress id: two comments of one
        # writer in one second (an older release kept only the first).
        return comment is None or bool(
            comment.legacy_id and comment.legacy_id != number
        )

    @staticmethod
    def _keep_old_anchor(comment, number, stored_ids, key) -> None:
        # A comment here before the import (the seeded original post's) gains
        # the file's id for its old #comment-N links: only that field is
        # written, and only when no comment of the post answers to the id.
        if (
            comment is not None
            and comment.legacy_id is None
            and number
            and number != comment.id
            and number not in stored_ids
        ):
            comment.legacy_id = number
            stored_ids[number] = key

    def _add_with_parents(self, post, key, new, keys, stored) -> None:
        # A reply is threaded under its stored parent, so the parents it still
        # waits for go in first. A file whose parents loop is cut where the loop
        # closes: that comment starts a thread.
        chain: list[tuple] = []
        while key in new and key not in stored and key not in chain:
            chain.append(key)
            key = keys.get(new[key].data.parent_wp_id or None)
        for key in reversed(chain):
            item = new[key]
            parent = stored.get(keys.get(item.data.parent_wp_id or None))
            # One transaction for the whole file: the command commits at the end.
            stored[key] = add_response(post, self._response(item, parent), commit=False)

    def _response(self, item: _NewComment, parent: Comment | None) -> NewResponse:
        data = item.data
        author = self.authors_by_wp_id.get(data.user_id) if data.user_id else None
        ping = item.kind != "comment"
        return NewResponse(
            type=item.kind,
            status=item.status,
            moderation_reason="importato da WordPress",
            content=ping_excerpt(data.content) if ping else data.content,
            author_name=item.name,
            author_email=fit(data.author_email, Comment.author_email),
            author_url=fitting_url(data.author_url, Comment.author_url),
            author_ip=data.author_ip,
            author_id=author.id if author else None,
            source_url=item.source,
            source_title=item.name if ping else "",
            parent=parent,
            created_at=data.created_at,
            legacy_id=comment_number(data) or None,
        )


def import_site(site: WxrSite, own_site_url: str = "") -> ImportReport:
    """Import ``site`` into the session, statuses as exported (the caller commits
    once, so a file goes in whole or not at all). ``own_site_url``: this blog's
    address, to know its own export."""
    db.session.info[QUIET] = True  # imported pending comments are not news
    importer = _Importer(
        Attachments(
            Attachment(
                item.wp_id,
                item.parent_id,
                item.attachment_url,
                plain_title(item.title),
                plain_title(item.excerpt),  # its caption
            )
            for item in site.posts
            if item.post_type == "attachment"
        ),
        same_site(site.link, own_site_url),
        {normalise_path(f"/{item.slug}") for item in site.posts if item.slug},
    )

    for author in site.authors:
        importer.author(author)
    for category in site.categories:
        importer.category(category)
    for tag in site.tags:
        importer.tag(tag)
    # Posts with the slug WordPress gave them first: a draft without one takes
    # its title's, and must not take a slug a later post of the file has.
    for post in sorted(site.posts, key=lambda post: not post.slug):
        importer.post(post)
    importer.record_attachment_pages()
    importer.record_yielding()
    db.session.flush()
    return importer.report
