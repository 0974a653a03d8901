"""Moderation settings: config defaults overridden by the author's saved values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from flask import current_app, g
from sqlalchemy import select

from ..extensions import db
from ..models import Setting


@dataclass(frozen=True)
class ModerationSettings:
    hold_all: bool = True
    auto_approve_known: bool = False
    max_links: int = 2
    moderation_words: tuple[str, ...] = ()
    disallowed_words: tuple[str, ...] = ()
    thread_depth: int = 5
    comments_per_page: int = 50
    comment_order: str = "oldest"
    close_after_days: int = 0
    flood_seconds: int = 15
    min_seconds: int = 3
    avatars: str = "identicon"

    def __post_init__(self) -> None:
        # A page holds at least one thread, whatever the config says: the
        # paging arithmetic divides by it.
        object.__setattr__(self, "comments_per_page", max(self.comments_per_page, 1))


# Setting key -> config key holding its default.
CONFIG_KEYS = {
    "hold_all": "COMMENT_HOLD_ALL",
    "auto_approve_known": "COMMENT_AUTO_APPROVE_KNOWN",
    "max_links": "COMMENT_MAX_LINKS",
    "moderation_words": "COMMENT_MODERATION_WORDS",
    "disallowed_words": "COMMENT_DISALLOWED_WORDS",
    "thread_depth": "COMMENT_THREAD_DEPTH",
    "comments_per_page": "COMMENTS_PER_PAGE",
    "comment_order": "COMMENT_ORDER",
    "close_after_days": "COMMENT_CLOSE_AFTER_DAYS",
    "flood_seconds": "COMMENT_FLOOD_SECONDS",
    "min_seconds": "COMMENT_MIN_SECONDS",
    "avatars": "AVATARS",
}


def parse_word_list(value: object) -> tuple[str, ...]:
    """One entry per line (or list item), trimmed, lower-cased, blanks dropped."""
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    return tuple(w.strip().lower() for w in items if str(w).strip())


def _coerce(name: str, value: object) -> object:
    default = ModerationSettings.__dataclass_fields__[name].default
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, tuple):
        return parse_word_list(value)
    return str(value)


def build_settings(
    config: Mapping[str, object], overrides: Mapping[str, str]
) -> ModerationSettings:
    """Settings from config defaults, with the stored overrides applied on top."""
    values = {}
    for field in fields(ModerationSettings):
        raw = overrides.get(field.name, config.get(CONFIG_KEYS[field.name]))
        if raw is None:
            continue
        try:
            values[field.name] = _coerce(field.name, raw)
        except (TypeError, ValueError):
            continue  # a bad stored value falls back to the default
    return ModerationSettings(**values)


def _stored_values() -> dict[str, str]:
    if "stored_settings" not in g:
        g.stored_settings = dict(
            db.session.execute(select(Setting.key, Setting.value)).all()
        )
    return g.stored_settings


def current_settings() -> ModerationSettings:
    """The settings in force for this request (one query, cached on ``g``)."""
    if "moderation_settings" not in g:
        g.moderation_settings = build_settings(current_app.config, _stored_values())
    return g.moderation_settings


def content_version() -> str:
    """The version of the public content (see ``blog.pagecache``), same query."""
    return _stored_values().get("content_version", "")


def serialise(value: object) -> str:
    """The text stored in ``Setting.value`` for a settings value."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return "\n".join(value)
    return str(value)


def save_settings(settings: ModerationSettings) -> None:
    """Store every field of ``settings`` as an override (caller commits)."""
    for name, value in asdict(settings).items():
        db.session.merge(Setting(key=name, value=serialise(value)))
    g.pop("moderation_settings", None)
    g.pop("stored_settings", None)
