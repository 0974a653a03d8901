"""The queue at 100,000 responses: same queries per page, each served by an index."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from helpers_admin import post_id
from helpers_comments import send_comment
from sqlalchemy import insert, text

from blog.admin.queue import QueueQuery, queue_statement, status_counts
from blog.extensions import db
from blog.models import Comment

PAGES = [
    "/admin/comments",
    "/admin/comments?view=pending",
    "/admin/comments?view=approved",
    "/admin/comments?view=spam",
    "/admin/comments?type=pingback",
    "/admin/comments?post={post}&view=pending",
    "/admin/comments?s=lettore7",
    "/admin/",
]
STATUSES = ("pending", "approved", "approved", "spam", "trash")


def bulk_insert(app, number: int) -> None:
    """Insert ``number`` responses in one bulk INSERT (the ORM's executemany,
    which still tells the content version, as every real write does)."""
    rng = random.Random(5)
    start = datetime(2020, 1, 1)
    with app.app_context():
        target = post_id(app)
        rows = [
            {
                "post_id": target,
                "type": "pingback" if n % 50 == 0 else "comment",
                "status": STATUSES[n % len(STATUSES)],
                "author_name": f"Lettore{n}",
                "author_email": f"lettore{n}@example.com",
                "author_url": "",
                "author_ip": f"10.{n % 250}.{n % 200}.{n % 100}",
                "content": f"Commento numero {n}",
                "content_html": f"<p>Commento numero {n}</p>",
                "created_at": start + timedelta(seconds=rng.randrange(10**8)),
                "updated_at": start,
                "depth": 1,
                "moderation_reason": "importato",
            }
            for n in range(number)
        ]
        db.session.execute(insert(Comment), rows)
        db.session.commit()


def recount(app, client, count_queries) -> list[str]:
    """The statements of the queue viewed again with nothing changed."""
    with count_queries() as counter:
        assert client.get("/admin/comments?view=pending").status_code == 200
    return counter.statements


def test_the_counts_follow_every_change(app, author_client, count_queries):
    bulk_insert(app, 10)
    author_client.get("/admin/comments")
    assert not [
        q for q in recount(app, author_client, count_queries) if "GROUP BY" in q
    ]
    with app.app_context():
        before = status_counts()["pending"]
    bulk_insert(app, 5)  # one pending among them (every fifth)
    statements = recount(app, author_client, count_queries)
    assert [q for q in statements if "GROUP BY" in q]
    with app.app_context():
        assert status_counts()["pending"] == before + 1


def test_the_counts_see_a_held_comment_that_no_reader_sees(app, author_client):
    author_client.get("/admin/comments")  # counts kept at this version
    with app.app_context():
        before = status_counts()["pending"]
    assert send_comment(app.test_client(), app, "Da moderare.").status_code == 302
    page = author_client.get("/admin/comments").get_data(as_text=True)
    assert f'In attesa <span class="count">({before + 1})' in page


def queries_per_page(app, client, count_queries) -> dict[str, int]:
    counts = {}
    for url in PAGES:
        url = url.format(post=post_id(app))
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = counter.count
    return counts


def test_queue_pages_cost_the_same_queries_at_100k(app, author_client, count_queries):
    bulk_insert(app, 10)
    small = queries_per_page(app, author_client, count_queries)
    bulk_insert(app, 100_000)
    large = queries_per_page(app, author_client, count_queries)
    assert large == small
    # The first page after a change counts the statuses (one GROUP BY over an
    # index); the others reuse those counts until the next change.
    assert max(small.values()) <= 6
    assert sum("GROUP BY" in q for q in recount(app, author_client, count_queries)) == 0
    deep = "/admin/comments?view=approved&page=1500"
    with count_queries() as counter:
        assert author_client.get(deep).status_code == 200
    assert counter.count == small["/admin/comments?view=approved"]
    with app.app_context():
        counts = status_counts()
    assert counts["pending"] == 20_002  # 100,010 / 5, rounded up, spread evenly
    assert sum(counts[s] for s in ("pending", "approved", "spam", "trash")) == 100_022
    page = author_client.get("/admin/comments?view=spam").get_data(as_text=True)
    assert "Pagina 1 di 1001" in page


def plan(app, statement) -> str:
    with app.app_context():
        compiled = statement.compile(
            dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}
        )
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(row[-1] for row in rows)


# SQLite's query plans; PostgreSQL plans by statistics and says so differently.
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    "query",
    [
        QueueQuery(),
        QueueQuery(view="pending"),
        QueueQuery(view="trash", page=40),
        QueueQuery(type="webmention"),
        QueueQuery(post_id=1),
        QueueQuery(view="spam", post_id=1),
    ],
)
def test_every_queue_view_walks_an_index_in_date_order(app, query):
    bulk_insert(app, 2_000)
    with app.app_context():
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    found = plan(app, queue_statement(query).limit(21))
    assert "USE TEMP B-TREE" not in found, found
    assert "USING INDEX" in found or "USING COVERING INDEX" in found, found


@pytest.mark.backends("sqlite")
def test_the_counts_read_an_index_only(app):
    bulk_insert(app, 2_000)
    from sqlalchemy import func, select

    found = plan(app, select(Comment.status, func.count()).group_by(Comment.status))
    assert "COVERING INDEX" in found, found
    assert "TEMP B-TREE" not in found, found


def test_a_queue_page_reads_the_posts_title_not_its_body(
    app, author_client, count_queries
):
    # The post is joined to each of the page's 20 rows: a long article's body
    # would be read 20 times for a title and a link.
    send_comment(app.test_client(), app, "Un commento da moderare.")
    with count_queries() as counter:
        page = author_client.get("/admin/comments?view=pending")
    assert "Un commento da moderare." in page.get_data(as_text=True)
    assert "Chi è e chi NON è il Community Manager?!" in page.get_data(as_text=True)
    assert not [s for s in counter.statements if "post.body" in s]
