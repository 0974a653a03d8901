"""Write the blog as a WordPress eXtended RSS 1.2 file (what WordPress exports)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.localtime import local_time
from ..core.text import strip_controls
from ..core.urls import kept_guid
from ..extensions import db
from ..models import Author, Category, Comment, OldPath, Post
from .reader import OLD_ADDRESS, OLD_COMMENT_ID

WXR_VERSION = "1.2"
WP_NS = "http://wordpress.org/export/1.2/"
COMMENT_APPROVED = {"approved": "1", "pending": "0", "spam": "spam", "trash": "trash"}
POST_STATUS = {"published": "publish", "draft": "draft"}
# Characters XML 1.0 cannot carry at all.


def cdata(text: str) -> str:
    """``text`` in a CDATA section, as WordPress writes it (``]]>`` split)."""
    text = strip_controls(text)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _plain(text: str) -> str:
    return escape(strip_controls(text))


def _wp_date(value: datetime | None, local: bool = False) -> str:
    """WordPress's date (``local``: in the blog's zone, as its ``post_date``;
    else UTC, as its ``post_date_gmt``)."""
    if value is None:
        return "0000-00-00 00:00:00"
    return (local_time(value) if local else value).strftime("%Y-%m-%d %H:%M:%S")


def _rfc822(value: datetime | None) -> str:
    return format_datetime(value.replace(tzinfo=UTC)) if value else ""


def _author(author: Author) -> Iterator[str]:
    yield "\t<wp:author>"
    yield f"\t\t<wp:author_id>{author.id}</wp:author_id>"
    yield f"\t\t<wp:author_login>{cdata(author.username)}</wp:author_login>"
    yield f"\t\t<wp:author_email>{cdata(author.email)}</wp:author_email>"
    yield (
        f"\t\t<wp:author_display_name>{cdata(author.display_name)}"
        "</wp:author_display_name>"
    )
    yield "\t\t<wp:author_first_name><![CDATA[]]></wp:author_first_name>"
    yield "\t\t<wp:author_last_name><![CDATA[]]></wp:author_last_name>"
    yield "\t</wp:author>"


def _category(category: Category) -> Iterator[str]:
    yield "\t<wp:category>"
    yield f"\t\t<wp:term_id>{category.id}</wp:term_id>"
    yield f"\t\t<wp:category_nicename>{cdata(category.slug)}</wp:category_nicename>"
    yield "\t\t<wp:category_parent><![CDATA[]]></wp:category_parent>"
    yield f"\t\t<wp:cat_name>{cdata(category.name)}</wp:cat_name>"
    yield "\t</wp:category>"


def _comment(comment: Comment) -> Iterator[str]:
    if comment.type == "comment":
        content = comment.content
    else:
        content = f"[…] {comment.content} […]"
    name = comment.author_name
    url = comment.source_url if comment.is_ping else comment.author_url
    fields = [
        ("comment_id", str(comment.id)),
        ("comment_author", cdata(name)),
        ("comment_author_email", cdata(comment.author_email)),
        ("comment_author_url", _plain(url or "")),
        ("comment_author_IP", cdata(comment.author_ip)),
        ("comment_date", cdata(_wp_date(comment.created_at, local=True))),
        ("comment_date_gmt", cdata(_wp_date(comment.created_at))),
        ("comment_content", cdata(content)),
        ("comment_approved", cdata(COMMENT_APPROVED.get(comment.status, "0"))),
        ("comment_type", cdata(comment.type)),
        ("comment_parent", str(comment.parent_id or 0)),
        ("comment_user_id", str(comment.author_id or 0)),
    ]
    yield "\t\t<wp:comment>"
    for tag, value in fields:
        yield f"\t\t\t<wp:{tag}>{value}</wp:{tag}>"
    if comment.legacy_id:
        # The id it had before this blog: its #comment-N anchor after a move.
        yield from _meta("commentmeta", OLD_COMMENT_ID, str(comment.legacy_id), 3)
    yield "\t\t</wp:comment>"


def _meta(kind: str, key: str, value: str, depth: int) -> Iterator[str]:
    tabs = "\t" * depth
    yield f"{tabs}<wp:{kind}>"
    yield f"{tabs}\t<wp:meta_key>{cdata(key)}</wp:meta_key>"
    yield f"{tabs}\t<wp:meta_value>{cdata(value)}</wp:meta_value>"
    yield f"{tabs}</wp:{kind}>"


def _post(
    post: Post,
    site_url: str,
    comments: Iterable[Comment],
    old_paths: Iterable[str],
    imported: set[str],
) -> Iterator[str]:
    date = post.published_at or post.created_at
    yield "\t<item>"
    yield f"\t\t<title>{cdata(post.title)}</title>"
    yield f"\t\t<link>{_plain(f'{site_url}/{post.slug}/')}</link>"
    yield f"\t\t<pubDate>{_rfc822(post.published_at)}</pubDate>"
    yield f"\t\t<dc:creator>{cdata(post.author.username)}</dc:creator>"
    guid = kept_guid(post, imported)
    yield f'\t\t<guid isPermaLink="false">{_plain(guid)}</guid>'
    yield "\t\t<description></description>"
    yield f"\t\t<content:encoded>{cdata(post.body)}</content:encoded>"
    yield f"\t\t<excerpt:encoded>{cdata(post.excerpt)}</excerpt:encoded>"
    fields = [
        ("post_id", str(post.id)),
        ("post_date", cdata(_wp_date(date, local=True))),
        # Even a draft's (WordPress writes 0000-00-00 for one): an importer
        # without it reads post_date as UTC, hours off in our zone.
        ("post_date_gmt", cdata(_wp_date(date))),
        ("post_modified", cdata(_wp_date(post.updated_at, local=True))),
        ("post_modified_gmt", cdata(_wp_date(post.updated_at))),
        ("comment_status", cdata(post.comment_status)),
        ("ping_status", cdata(post.ping_status)),
        ("post_name", cdata(post.slug)),
        ("status", cdata(POST_STATUS.get(post.status, "draft"))),
        ("post_parent", "0"),
        ("menu_order", str(post.menu_order)),
        ("post_type", cdata(post.kind)),
        ("post_password", cdata("")),
        ("is_sticky", "0"),
    ]
    for tag, value in fields:
        yield f"\t\t<wp:{tag}>{value}</wp:{tag}>"
    terms = [("category", c) for c in post.categories]
    terms += [("post_tag", t) for t in post.tags]
    for domain, term in terms:
        yield (
            f'\t\t<category domain="{domain}" nicename={quoteattr(term.slug)}>'
            f"{cdata(term.name)}</category>"
        )
    # The addresses it had before this blog, so that a second move keeps
    # their 301s (WordPress keeps them as custom fields, unused).
    for path in old_paths:
        yield from _meta("postmeta", OLD_ADDRESS, path, 2)
    for comment in comments:
        yield from _comment(comment)
    yield "\t</item>"


def export_lines(site_name: str, site_url: str, tagline: str) -> Iterator[str]:
    """The WXR document, line by line, for every post and response."""
    site_url = site_url.rstrip("/")
    authors = db.session.scalars(select(Author).order_by(Author.id)).all()
    categories = db.session.scalars(select(Category).order_by(Category.id)).all()
    posts = db.session.scalars(
        select(Post)
        .options(
            selectinload(Post.author),
            selectinload(Post.categories),
            selectinload(Post.tags),
        )
        .order_by(Post.id)
    ).all()
    comments: dict[int, list[Comment]] = {}
    for comment in db.session.scalars(select(Comment).order_by(Comment.id)):
        comments.setdefault(comment.post_id, []).append(comment)
    old_paths: dict[int, list[str]] = {}
    for post_id, path in db.session.execute(
        select(OldPath.post_id, OldPath.path).order_by(OldPath.id)
    ):
        old_paths.setdefault(post_id, []).append(path)

    yield '<?xml version="1.0" encoding="UTF-8" ?>'
    yield "<!-- WordPress eXtended RSS (WXR) written by the nOwmedia blog -->"
    yield '<rss version="2.0"'
    yield f'\txmlns:excerpt="{WP_NS}excerpt/"'
    yield '\txmlns:content="http://purl.org/rss/1.0/modules/content/"'
    yield '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"'
    yield '\txmlns:dc="http://purl.org/dc/elements/1.1/"'
    yield f'\txmlns:wp="{WP_NS}"'
    yield ">"
    yield "<channel>"
    yield f"\t<title>{_plain(site_name)}</title>"
    yield f"\t<link>{_plain(site_url)}</link>"
    yield f"\t<description>{_plain(tagline)}</description>"
    yield f"\t<pubDate>{_rfc822(datetime.now(UTC).replace(tzinfo=None))}</pubDate>"
    yield "\t<language>it-IT</language>"
    yield f"\t<wp:wxr_version>{WXR_VERSION}</wp:wxr_version>"
    yield f"\t<wp:base_site_url>{_plain(site_url)}</wp:base_site_url>"
    yield f"\t<wp:base_blog_url>{_plain(site_url)}</wp:base_blog_url>"
    for author in authors:
        yield from _author(author)
    for category in categories:
        yield from _category(category)
    imported = {post.imported_guid for post in posts if post.imported_guid}
    for post in posts:
        yield from _post(
            post,
            site_url,
            comments.get(post.id, []),
            old_paths.get(post.id, []),
            imported,
        )
    yield "</channel>"
    yield "</rss>"
