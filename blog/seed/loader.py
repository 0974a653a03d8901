"""Loads the original post and the sample posts into the database, once."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import select

from ..comments.notices import QUIET
from ..comments.operations import NewResponse, add_response
from ..core.sanitize.post import clean_post
from ..extensions import db
from ..models import Author, Post
from ..posts.categories import get_or_create_category
from ..posts.oldpaths import normalise_path, post_for_path


def _read(name: str) -> Any:
    return json.loads(resources.files("blog.seed").joinpath(name).read_text("utf-8"))


def _get_or_create_author(data: dict) -> Author:
    author = db.session.scalar(
        select(Author).where(Author.username == data["username"])
    )
    if author is None:
        author = Author(**data)
        db.session.add(author)
    return author


def _add_post(data: dict, author: Author) -> Post | None:
    if db.session.scalar(select(Post.id).where(Post.slug == data["slug"])):
        return None
    # A seeded post the author has renamed since: its first slug is now one of
    # its old addresses, and a second copy would take that address over.
    if post_for_path(normalise_path(f"/{data['slug']}/"), published_only=False):
        return None
    published = datetime.fromisoformat(data["published_at"])
    post = Post(
        slug=data["slug"],
        title=data["title"],
        body=clean_post(data["body_html"]),
        author=author,
        status="published",
        published_at=published,
        # Written then, not on the day the blog was installed: feeds and the
        # sitemap date it so.
        created_at=published,
        updated_at=published,
        categories=[get_or_create_category(data["category"])],
    )
    db.session.add(post)
    return post


def _add_responses(post: Post, author: Author, responses: list[dict]) -> None:
    db.session.flush()  # the author's id, for the responses they wrote
    for item in responses:
        if item["type"] == "pingback":
            values = {
                "source_url": item["source_url"],
                "source_title": item["source_title"],
                "author_name": item["source_title"],
                "author_url": item["source_url"],
            }
        elif item.get("by_author"):
            values = {
                "author_id": author.id,
                "author_name": author.display_name,
                "author_url": author.url,
            }
        else:
            values = {"author_name": item["name"], "author_url": item.get("url", "")}
        new = NewResponse(
            type=item["type"],
            content=item["text"],
            created_at=datetime.fromisoformat(item["created_at"]),
            status="approved",
            moderation_reason="importato",
            **values,
        )
        # The caller commits once, with the posts the responses belong to.
        add_response(post, new, commit=False)


def load_seed() -> int:
    """Add whatever of the seed is missing; return how many posts were created."""
    # The seed's responses were moderated long ago: no notice, held or approved.
    # Only for the seed's own rows, all flushed here: what the caller stores
    # next in the same session is news again.
    quiet_before = db.session.info.get(QUIET)
    db.session.info[QUIET] = True
    try:
        created = _load_posts()
        db.session.flush()
    finally:
        if quiet_before is None:
            db.session.info.pop(QUIET, None)
        else:
            db.session.info[QUIET] = quiet_before
    return created


def _load_posts() -> int:
    original = _read("original-post.json")
    author = _get_or_create_author(original["author"])
    created = 0
    post = _add_post(original["post"], author)
    if post is not None:
        _add_responses(post, author, original["post"]["responses"])
        created += 1
    for data in _read("extra-posts.json"):
        if _add_post(data, author) is not None:
            created += 1
    return created
