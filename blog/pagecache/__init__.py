"""Rendered pages (posts, the home page, feeds, 404s) kept exact by a content
version, served before Flask.

``cache`` holds the pages, ``version`` moves the content version with every
commit that changes a page, ``wsgi`` the middleware that answers hits,
``versionread`` the one-statement version read, ``signing`` the tokens the
middleware signs as Flask and Flask-WTF would (and Flask's session, its keys
derived once).
"""

from flask import Flask

from .cache import PageCache, versioned_static
from .signing import PrederivedSessionInterface
from .version import listen_for_changes
from .wsgi import CachedPageMiddleware


def init_app(app: Flask) -> None:
    """Give the app its own cache, bump the content version on every change,
    and serve hits in front of Flask."""
    for name, size, megabytes in (
        ("page_cache", "PAGE_CACHE_SIZE", "PAGE_CACHE_MB"),
        ("side_page_cache", "SIDE_PAGE_CACHE_SIZE", "SIDE_PAGE_CACHE_MB"),
        ("missing_page_cache", "MISSING_PAGE_CACHE_SIZE", "MISSING_PAGE_CACHE_MB"),
    ):
        app.extensions[name] = PageCache(app.config[size], app.config[megabytes] << 20)
    listen_for_changes()
    app.url_defaults(versioned_static)
    app.session_interface = PrederivedSessionInterface()
    app.wsgi_app = CachedPageMiddleware(app, app.wsgi_app)  # type: ignore[method-assign]
