"""Addresses posts had on the blog they were imported from, and their 301s.

A path is stored normalised (decoded, lower case, no trailing slash, the query
dropped except WordPress's ``?p=N`` and a page's ``?page_id=N``), so a request
is matched with one indexed query on the unique ``old_path.path``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from ..database import delete_row
from ..extensions import db
from ..models import OldPath, Post
from .queries import get_published_post_by_id

# Longest path kept (the column's width); longer ones are not recorded.
MAX_PATH = OldPath.__table__.c.path.type.length
_COMMENT_PAGE = re.compile(r"^(.*)/comment-page-([1-9][0-9]{0,5})$")
# What WordPress adds after a post's permalink: its comment feed (in any of its
# formats), its AMP and embed views, its trackback address, the number of a
# page of a post split by <!--nextpage--> (one page here).
_FEED = re.compile(r"^(.*)/feed(?:/(?:rss2|rss|atom|rdf))?$")
_SAME_POST = re.compile(r"^(.*)/(?:amp|embed|trackback|[1-9][0-9]{0,3})$")
_POST_ID = re.compile(r"[0-9]{1,10}")
_SLASHES = re.compile(r"/{2,}")
# WordPress's addresses by number: any post's, a page's, an attachment's page
# (recorded as its post's: the blog keeps no attachment pages).
ATTACHMENT_QUERY = "attachment_id"
ID_QUERIES = ("p", "page_id", ATTACHMENT_QUERY)
NUMBERED_PATHS = tuple(f"/?{name}=" for name in ID_QUERIES)


def normalise_path(url: str) -> str:
    """``http://old.example/2011/02/A-Post/?utm=x`` -> ``/2011/02/a-post``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # a bracket where the host is: no address to keep
        return "/"
    # "//greek/a-page": some exports double a slash after the site's address.
    path = _SLASHES.sub("/", unquote(parts.path).lower()).rstrip("/") or "/"
    query = parse_qs(parts.query)
    for name in ID_QUERIES:
        number = query.get(name, [""])[0]
        if _POST_ID.fullmatch(number):
            return f"{path}?{name}={int(number)}"
    return path


def wordpress_paths(
    link: str, guid: str, wp_id: int, older: Iterable[str] = (), page: bool = False
) -> list[str]:
    """The old addresses of a WordPress post: permalink, guid and ``?p=ID``
    (and ``?page_id=ID`` for a page, whatever its guid says), and ``older``
    ones (those this blog's own export carries along)."""
    found = [normalise_path(url) for url in (link, guid) if url.strip()]
    if wp_id:
        found.append(f"/?p={wp_id}")
        if page:
            found.append(f"/?page_id={wp_id}")
    found += [normalise_path(path) for path in older if path.strip()]
    return _recordable(found)


def attachment_paths(link: str, wp_id: int) -> list[str]:
    """The old addresses of a WordPress attachment's page: its permalink,
    ``?attachment_id=ID`` and ``?p=ID`` (its guid is the file, no page)."""
    found = [normalise_path(link)] if link.strip() else []
    if wp_id:
        found += [f"/?{ATTACHMENT_QUERY}={wp_id}", f"/?p={wp_id}"]
    return _recordable(found)


def old_slug_paths(link: str, slug: str, old_slugs: Iterable[str]) -> list[str]:
    """Where WordPress sends the readers of a post's earlier slugs
    (``_wp_old_slug``): its permalink ``link`` with the old slug in place of
    ``slug``, and ``/<old slug>``."""
    head, _, last = normalise_path(link).rpartition("/")
    current = normalise_path(f"/{slug}")
    # A permalink without the slug ("/?p=43", a draft's) has nothing to swap.
    swapped = bool(slug) and f"/{last}" == current
    found = []
    for alone in (normalise_path(f"/{old}") for old in old_slugs):
        if alone != current:
            found += [head + alone, alone] if swapped else [alone]
    return _recordable(found)


def _recordable(paths: list[str]) -> list[str]:
    # The site's front page is never an old address of one post.
    kept = (p for p in paths if p != "/" and len(p) <= MAX_PATH and "\0" not in p)
    return list(dict.fromkeys(kept))


def record_paths(post: Post, paths: list[str], source: str) -> int:
    """Point each path not yet known at ``post`` (the caller commits); how many."""
    if not paths:
        return 0
    known = set(db.session.scalars(select(OldPath.path).where(OldPath.path.in_(paths))))
    new = [path for path in paths if path not in known]
    for path in new:
        db.session.add(OldPath(path=path, post_id=post.id, source=source))
    db.session.flush()
    return len(new)


def post_for_path(path: str, published_only: bool = True) -> Post | None:
    """The (published) post an old path points to, in one query."""
    if "\0" in path:
        # "%2500" is "%00" once a server has decoded it, and a NUL once
        # normalised: no address has one, and PostgreSQL refuses it in text.
        return None
    query = select(Post).join(OldPath, OldPath.post_id == Post.id)
    query = query.where(OldPath.path == path)
    if published_only:
        query = query.where(Post.status == "published")
    return db.session.scalar(query)


def post_numbered(name: str, number: int) -> Post | None:
    """The published post WordPress's ``/?p=N`` (``/?page_id=N``) names: the
    imported one that had the number, else ours; None for an imported draft's
    number, which names no post of ours either."""
    imported = post_for_path(f"/?{name}={number}", published_only=False)
    if imported is not None:
        return imported if imported.is_published else None
    if name == ATTACHMENT_QUERY:
        return None  # the blog's own posts have no attachment pages
    own = get_published_post_by_id(number)
    if own is None or _numbered_by_an_import(own):
        # An imported post had another number in WordPress: N named a post
        # the export did not hold (deleted there), as WordPress's 404 said.
        return None
    return own


def _numbered_by_an_import(post: Post) -> bool:
    found = select(OldPath.id).where(
        OldPath.post_id == post.id,
        or_(*(OldPath.path.startswith(prefix) for prefix in NUMBERED_PATHS)),
    )
    return db.session.scalar(found.limit(1)) is not None


@dataclass(frozen=True)
class OldTarget:
    """Where an old address moved: the post, and the comment page it named, or
    the post's comment feed."""

    slug: str
    cpage: int | None
    feed: bool = False


def view_of_post(path: str) -> tuple[str, int | None, bool] | None:
    """(the post's own path, the comment page, whether its comment feed) of a
    path WordPress adds a view to (``…/comment-page-2``, ``…/feed``,
    ``…/amp``), or None for any other path."""
    if match := _COMMENT_PAGE.match(path):
        return match.group(1), int(match.group(2)), False
    if match := _FEED.match(path):
        return match.group(1), None, True
    if match := _SAME_POST.match(path):
        return match.group(1), None, False
    return None


def resolve(url: str) -> OldTarget | None:
    """The post (and comment page, or comment feed) an old URL means, or None."""
    path = normalise_path(url)
    exact = post_for_path(path)  # an old post whose own slug was "feed" or "amp"
    if exact is not None:
        return OldTarget(exact.slug, None)
    view = view_of_post(path)
    if view is None:
        return None
    path, cpage, feed = view
    post = post_for_path(path or "/")
    return None if post is None else _target(post, cpage, feed)


def numbered_target(
    name: str, number: int, cpage: int | None = None, feed: bool = False
) -> OldTarget | None:
    """Where WordPress's ``/?p=N`` (``/?page_id=N``) moved, with the comment page
    (``&cpage=``) or the comment feed (``&feed=``) it named; None for no post."""
    post = post_numbered(name, number)
    return None if post is None else _target(post, cpage, feed)


def _target(post: Post, cpage: int | None, feed: bool) -> OldTarget:
    # Comment page 1 is the post's own address.
    return OldTarget(post.slug, cpage if cpage and cpage > 1 else None, feed)


def all_paths() -> Select:
    """Every recorded old path with its post, by path (the author's table)."""
    return select(OldPath).options(joinedload(OldPath.post)).order_by(OldPath.path)


def delete_path(path_id: int) -> bool:
    """Forget one old path (the caller commits); False when it was not there."""
    return delete_row(OldPath, path_id)
