"""Loads a post's approved responses as threads, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import Comment, Post


@dataclass
class Node:
    comment: Comment
    children: list[Node] = field(default_factory=list)


@dataclass
class Responses:
    threads: list[Node]
    total: int


def load_responses(post: Post) -> Responses:
    """All approved responses of ``post`` as a forest, oldest first."""
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.post_id == post.id, Comment.status == "approved")
        .order_by(Comment.created_at, Comment.id)
    ).all()
    nodes = {comment.id: Node(comment) for comment in comments}
    threads: list[Node] = []
    for comment in comments:
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.children if parent else threads).append(nodes[comment.id])
    return Responses(threads=threads, total=len(comments))
