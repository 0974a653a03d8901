"""Dates at the ends of the calendar (year 1, year 9999), as an import or a
typed date may bring them: every page still answers."""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers_comments import POST_URL, stage_comment, the_post
from helpers_posts import add_post

from blog.extensions import db


@pytest.mark.parametrize(
    "moment", [datetime(9999, 12, 31, 23, 30), datetime(1, 1, 1, 0, 10)]
)
@pytest.mark.parametrize("zone", ["Europe/Rome", "America/Los_Angeles", "Asia/Tokyo"])
def test_posts_and_comments_dated_at_the_ends_still_show(app, client, moment, zone):
    app.config.update(TIMEZONE=zone, COMMENT_CLOSE_AFTER_DAYS=14)
    add_post(app, "ai-confini", moment, title="Ai confini")
    with app.app_context():
        stage_comment(the_post(), created_at=moment)
        db.session.commit()
    for url in ("/", "/sitemap.xml", "/feed/", "/ai-confini/", POST_URL):
        assert client.get(url).status_code == 200, url
