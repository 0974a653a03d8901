"""The blog's absolute URLs, built from SITE_URL (in a request or outside one)."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import quote, urlsplit

from flask import Flask, current_app, request
from werkzeug.routing import BaseConverter, IntegerConverter, Map, MapAdapter

from ..models import Post
from .text import MAX_ID


class RowIdConverter(IntegerConverter):
    """``<id:comment_id>``: a number no larger than a row's id can be, so a
    longer one is a 404 and never reaches the database."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, max=MAX_ID)


class NameConverter(BaseConverter):
    """``<name:slug>``: one path segment without a dot. A post's slug has none,
    so ``/favicon.ico`` or ``/wp-sitemap.xml`` is a 404 at once, not a
    permanent redirect to ``/favicon.ico/`` that is one."""

    regex = "[^/.]+"


def site_root() -> str:
    """SITE_URL with exactly one trailing slash."""
    return current_app.config["SITE_URL"].rstrip("/") + "/"


def site_script_root(app: Flask) -> str:
    """The path SITE_URL mounts the blog at ("" at the root of the host).

    Only requests made under it share cached pages: a ``SCRIPT_NAME`` a client
    or a proxy header chose would otherwise be written into every link of a
    page served to everybody else.
    """
    return urlsplit(app.config["SITE_URL"]).path.rstrip("/")


def site_host() -> str:
    """The host name of SITE_URL as a mail header takes it (ASCII: an accented
    domain in IDNA form): the domain of our Message-IDs and List-Ids."""
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # no valid name: a header must still be sent
        return "localhost"


def url_adapter() -> MapAdapter:
    """The app's URL map bound to SITE_URL: builds and matches our own URLs."""
    site = urlsplit(site_root())
    return current_app.url_map.bind(
        site.netloc, script_name=site.path, url_scheme=site.scheme
    )


def local_path(path: str) -> str | None:
    """``path`` (decoded, as the router gives it) as a redirect's target on
    this site, under the blog's own mount point, quoted again: None when it
    holds a control character or a backslash (a browser drops a tab, and a
    "/\t/host" becomes "//host", another site)."""
    if any(c < " " or c in "\x7f\\" for c in path):
        return None
    return request.script_root + quote("/" + path.lstrip("/"), safe=_PATH_SAFE)


# What a path keeps unquoted: "?", "#" and "%" decoded from it are quoted again.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def site_url(endpoint: str, **values: object) -> str:
    """The absolute URL of ``endpoint`` under SITE_URL."""
    return url_adapter().build(endpoint, values, force_external=True)


def post_url(post: Post) -> str:
    """The public URL of a post."""
    return site_url("posts.detail", slug=post.slug)


def post_guid(post_id: int) -> str:
    """A post's permanent id, as WordPress writes it (``SITE_URL/?p=ID``)."""
    return f"{site_root()}?p={post_id}"


def kept_guid(post: Post, imported: Collection[str]) -> str:
    """The permanent id a post's feed entries carry: the one it had on the blog
    it was imported from, or its own. ``imported``: the guids imported posts
    hold among our own posts' ``?p=ID``. A blog moved in on its old domain
    keeps WordPress's ``?p=N``, which is also our own post N's: that post
    then takes another, so that no reader takes it for the old one."""
    if post.imported_guid:
        return post.imported_guid
    own = post_guid(post.id)
    return f"{own}#post-{post.id}" if own in imported else own
