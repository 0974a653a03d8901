"""Builds the benchmark's data set: a 10,000-comment post and a 100,000-row queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from blog.extensions import db
from blog.models import Author, Comment, Post

BIG_POST_SLUG = "post-con-diecimila-commenti"
QUEUE_POST_SLUG = "post-della-coda"


def _post(slug: str, title: str, author: Author) -> Post:
    post = Post(
        slug=slug,
        title=title,
        body="<p>Un articolo generato per le misure di carico.</p>",
        author=author,
        status="published",
        published_at=datetime(2013, 1, 1, 9, 0),
    )
    db.session.add(post)
    db.session.flush()
    return post


def _rows(post_id: int, count: int, status_of, start: datetime) -> list[dict]:
    return [
        {
            "post_id": post_id,
            "type": "comment",
            "status": status_of(i),
            "author_name": f"Lettore {i}",
            "author_email": f"lettore{i}@example.org",
            "author_ip": f"127.0.{(i // 250) % 250}.{i % 250 + 1}",
            "content": f"Commento numero {i}: grazie per il post.",
            "content_html": f"<p>Commento numero {i}: grazie per il post.</p>",
            "moderation_reason": "in attesa di approvazione",
            "created_at": start + timedelta(seconds=i),
            "updated_at": start + timedelta(seconds=i),
            "depth": 1,
        }
        for i in range(count)
    ]


def build(big_post_comments: int = 10_000, queue_comments: int = 100_000) -> None:
    """Add the two benchmark posts and their comments (caller commits)."""
    author = db.session.scalar(select(Author).order_by(Author.id).limit(1))
    start = datetime(2013, 1, 1, 10, 0)
    big = _post(BIG_POST_SLUG, "Un post con diecimila commenti", author)
    db.session.execute(
        insert(Comment), _rows(big.id, big_post_comments, lambda i: "approved", start)
    )
    statuses = ("pending", "approved", "spam", "trash")
    queue = _post(QUEUE_POST_SLUG, "Il post della coda di moderazione", author)
    rows = _rows(queue.id, queue_comments, lambda i: statuses[i % 7 % 4], start)
    for offset in range(0, len(rows), 20_000):
        db.session.execute(insert(Comment), rows[offset : offset + 20_000])
    db.session.execute(
        update(Comment).where(Comment.thread_id.is_(None)).values(thread_id=Comment.id)
    )
