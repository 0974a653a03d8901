"""Categories by name: one slug rule for the editor and the seed data."""

from __future__ import annotations

from sqlalchemy import select

from ..core.text import slugify
from ..extensions import db
from ..models import Category


def category_slug(name: str) -> str:
    """The slug of the category called ``name``, within its column."""
    # Cut after slugify, which may lengthen it ("ﬃ" is "ffi").
    return slugify(name)[: Category.__table__.c.slug.type.length].rstrip("-")


def get_or_create_category(name: str) -> Category:
    """The category called ``name``, created when missing."""
    slug = category_slug(name)
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        category = Category(name=name, slug=slug)
        db.session.add(category)
    return category
