"""Rendered post pages kept exact by a content version, served before Flask.

``cache`` holds the pages and the content version, ``wsgi`` the middleware that
answers hits, ``versionread`` the one-statement version read, ``signing`` the
tokens the middleware signs as Flask and Flask-WTF would.
"""

from flask import Flask

from .cache import PageCache, listen_for_changes
from .wsgi import CachedPageMiddleware


def init_app(app: Flask) -> None:
    """Give the app its own cache, bump the content version on every change,
    and serve hits in front of Flask."""
    app.extensions["page_cache"] = PageCache(app.config.get("PAGE_CACHE_SIZE", 256))
    app.extensions["side_page_cache"] = PageCache(
        app.config.get("SIDE_PAGE_CACHE_SIZE", 128)
    )
    app.extensions["missing_page_cache"] = PageCache(
        app.config.get("MISSING_PAGE_CACHE_SIZE", 128)
    )
    listen_for_changes()
    app.wsgi_app = CachedPageMiddleware(app, app.wsgi_app)  # type: ignore[method-assign]
