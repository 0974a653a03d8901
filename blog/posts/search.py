"""``/?s=parole``: full-text search over published posts, on either database."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import Select, literal_column, select, text

from ..core.memo import kept_for_version
from ..core.settings import content_version
from ..extensions import db
from ..models import Post
from .listing import listing_key, render_listing
from .queries import published_content

# A query is cut to this many words of this many characters: enough for a
# reader, and a bound on what one request asks of the index.
MAX_WORDS = 8
MAX_WORD_LENGTH = 40


def search_words(query: str) -> list[str]:
    """The words of the reader's query, bounded, in order, without repeats."""
    words = [word[:MAX_WORD_LENGTH] for word in query.split()]
    return list(dict.fromkeys(words))[:MAX_WORDS]


def fts5_query(words: list[str]) -> str:
    """An FTS5 MATCH string where every word is a quoted string, never syntax.

    Inside double quotes FTS5 reads ``AND``, ``NEAR``, ``*``, ``:`` and ``^``
    as text; a quote is written twice.
    """
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def search_posts(words: list[str]) -> Select:
    """Published posts whose title or body holds every word, the most relevant
    first (a word in the title counts more than in the body), then newest."""
    newest = (Post.published_at.desc(), Post.id.desc())
    if db.engine.dialect.name == "postgresql":
        # The very expression of ix_post_search, so the GIN index finds the
        # rows; plainto_tsquery reads its input as plain words, never syntax.
        # A query of stop words only ("perché", "il") is empty in Italian and
        # would find nothing: it is looked for word for word ('simple'),
        # without the index (as SQLite, which has no stop words, finds it).
        config = "italian" if _italian_words_left(words) else "simple"
        found = text(
            f"to_tsvector('{config}', post.title || ' ' || post.body)"
            f" @@ plainto_tsquery('{config}', :search_words)"
        ).bindparams(search_words=" ".join(words))
        rank = text(
            f"ts_rank(setweight(to_tsvector('{config}', post.title), 'A')"
            f" || setweight(to_tsvector('{config}', post.body), 'D'),"
            f" plainto_tsquery('{config}', :rank_words)) DESC"
        ).bindparams(rank_words=" ".join(words))
        return published_content().where(found).order_by(None).order_by(rank, *newest)
    # bm25 is lower for a better match; the title's column weighs ten times.
    matching = (
        select(
            literal_column("rowid").label("post_id"),
            literal_column("bm25(post_fts, 10.0, 1.0)").label("rank"),
        )
        .select_from(text("post_fts"))
        .where(
            text("post_fts MATCH :search_words").bindparams(
                search_words=fts5_query(words)
            )
        )
        .subquery()
    )
    return (
        published_content()
        .join(matching, Post.id == matching.c.post_id)
        .order_by(None)
        .order_by(matching.c.rank, *newest)
    )


def _italian_words_left(words: list[str]) -> bool:
    """Whether PostgreSQL's Italian configuration keeps any of ``words``."""
    statement = text("SELECT numnode(plainto_tsquery('italian', :words)) > 0")
    return bool(db.session.scalar(statement, {"words": " ".join(words)}))


# What this module keeps per content version (``blog.core.memo``): the last
# results pages asked for. The same search sent again and again is made once;
# searches that all differ only start this store again, never the listings'.
_KEPT = "posts.search_pages"
_KEPT_PAGES = 100


def render_search(query: str) -> str:
    """The results page for ``/?s=``: paginated, or a note when nothing matches."""
    words = search_words(query)
    if not words:
        return render_template("posts/search.html", query=query, pagination=None)
    return kept_for_version(
        _KEPT,
        content_version(),
        (*listing_key(), query),
        lambda: render_listing(
            "posts/search.html", search_posts(words), kept=False, query=query
        ),
        _KEPT_PAGES,
    )
