"""Rendered pages (posts, the home page, feeds, 404s) kept exact by a content
version, served before Flask.

``cache`` holds the pages, ``version`` moves the content version with every
commit that changes a page, ``wsgi`` the middleware that answers hits,
``versionread`` the one-statement version read, ``signing`` the tokens the
middleware signs as Flask and Flask-WTF would.
"""

from flask import Flask

from .cache import PageCache, versioned_static
from .version import listen_for_changes
from .wsgi import CachedPageMiddleware


def init_app(app: Flask) -> None:
    """Give the app its own cache, bump the content version on every change,
    and serve hits in front of Flask."""
    app.extensions["page_cache"] = PageCache(app.config["PAGE_CACHE_SIZE"])
    app.extensions["side_page_cache"] = PageCache(app.config["SIDE_PAGE_CACHE_SIZE"])
    app.extensions["missing_page_cache"] = PageCache(
        app.config["MISSING_PAGE_CACHE_SIZE"]
    )
    listen_for_changes()
    app.url_defaults(versioned_static)
    app.wsgi_app = CachedPageMiddleware(app, app.wsgi_app)  # type: ignore[method-assign]
