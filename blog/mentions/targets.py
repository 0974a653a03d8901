"""Telling whether a URL is ours and which post it names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from ..core.text import row_id
from ..core.urls import site_root, url_adapter
from ..models import Post
from ..posts.oldpaths import ID_QUERIES, OldTarget, post_numbered, resolve
from ..posts.queries import get_published_post


def normalise_url(url: str) -> str:
    """A URL compared loosely: scheme-free, lower-case host, no default port,
    no fragment, no trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. "http://[": compares equal to nothing real
        return url.strip()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", netloc, path, parts.query, ""))


def is_ours(url: str) -> bool:
    """Whether ``url`` lies under SITE_URL (http and https alike)."""
    site = normalise_url(site_root())
    candidate = normalise_url(url)
    return candidate == site or candidate.startswith((site + "/", site + "?"))


def local_path(url: str) -> str:
    """The path of one of our URLs below SITE_URL's own path."""
    site_path = urlsplit(site_root()).path.rstrip("/")
    path = urlsplit(url).path or "/"
    return path[len(site_path) :] or "/" if path.startswith(site_path) else path


@dataclass(frozen=True)
class TargetMatch:
    """What one of our URLs names: a post (maybe), or another page, or nothing."""

    exists: bool
    post: Post | None = None


def match_target(url: str) -> TargetMatch:
    """Find the published post a URL of ours points to: by its address here, by
    WordPress's ``/?p=N``, or by an address an imported post had (whose 301
    leads to it). A draft is no post: a ping learns nothing of it."""
    path = local_path(url)
    try:
        endpoint, values = url_adapter().match(path, method="GET")
    except RequestRedirect as redirect:
        # /slug without the trailing slash: follow the canonical form once.
        return match_target(urljoin(url, redirect.new_url))
    except NotFound:
        return _old_address(url, path)
    except HTTPException:
        return TargetMatch(exists=False)
    if endpoint == "posts.index":
        return _numbered(parse_qs(urlsplit(url).query))
    if endpoint != "posts.detail":
        return TargetMatch(exists=True)
    found = _published(OldTarget(values["slug"], None))
    # No post has the slug: a renamed post's old one (``/old-slug/``) may.
    return found if found.exists else _old_address(url, path)


def _old_address(url: str, path: str) -> TargetMatch:
    query = urlsplit(url).query
    return _published(resolve(f"{path}?{query}" if query else path))


def _numbered(query: dict[str, list[str]]) -> TargetMatch:
    for name in ID_QUERIES:
        if name in query:
            number = row_id(query[name][0])
            post = post_numbered(name, number) if number else None
            return TargetMatch(exists=post is not None, post=post)
    return TargetMatch(exists=True)  # the home page: not a post


def _published(target: OldTarget | None) -> TargetMatch:
    post = get_published_post(target.slug) if target is not None else None
    return TargetMatch(exists=post is not None, post=post)
