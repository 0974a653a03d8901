"""Posts made for a test: articles and pages beside the seed's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from blog.extensions import db
from blog.models import Author, Post


def add_post(app, slug: str, published_at: datetime | None, **values) -> None:
    """A post by the seed's author, published at ``published_at`` (None: a draft)."""
    with app.app_context():
        author = db.session.scalar(select(Author))
        db.session.add(
            Post(
                slug=slug,
                title=values.pop("title", slug),
                body=values.pop("body", "<p>Testo.</p>"),
                author=author,
                status="published" if published_at else "draft",
                published_at=published_at,
                **values,
            )
        )
        db.session.commit()
