"""The app the mention tests use: it may reach the local test sites only."""

from __future__ import annotations

import pytest
from flask import Flask
from helpers_mentions import MENTION_CONFIG, post_url


@pytest.fixture
def mention_app(app: Flask) -> Flask:
    """The conftest app, allowed to reach 127.0.0.2 and 127.0.0.3 only."""
    app.config.update(MENTION_CONFIG)
    return app


@pytest.fixture
def target(mention_app: Flask) -> str:
    """The URL of the original post, the usual ping target."""
    return post_url(mention_app)
