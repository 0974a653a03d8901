"""A small Flask blog engine: the application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, instance/config.py, BLOG_* environment, ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object("blog.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix="BLOG")
    if config:
        app.config.update(config)
    _configure_database_url(app)

    from . import accounts, cli, database, mail, mentions, pagecache, privacy
    from .comments import notices
    from .extensions import csrf, migrate
    from .web import errors, limits, security, templating

    # The POST budget wraps Flask first, so that ProxyFix (security) wraps it in
    # turn and the budget counts the real client's address.
    limits.init_app(app)
    security.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    migrate.init_app(
        app, database.db, directory=_migrations_dir(), render_as_batch=True
    )
    templating.init_app(app)
    pagecache.init_app(app)
    mail.init_app(app)
    notices.init_app(app)
    mentions.init_app(app)
    errors.init_app(app)
    accounts.init_app(app)
    privacy.init_app(app)
    cli.init_app(app)

    from .admin import bp as admin_bp
    from .comments import bp as comments_bp
    from .feeds import bp as feeds_bp
    from .mentions import bp as mentions_bp
    from .ops import bp as ops_bp
    from .posts import bp as posts_bp

    app.register_blueprint(posts_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(mentions_bp)
    app.register_blueprint(admin_bp)
    return app


def _configure_database_url(app: Flask) -> None:
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "blog.sqlite3")
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
