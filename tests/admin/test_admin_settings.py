"""The moderation settings page edits every rule, stored in the database."""

from __future__ import annotations

from dataclasses import fields

import pytest
from helpers_admin import form_data, press, soup
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField

from blog import config, create_app
from blog.admin.forms import SettingsForm
from blog.core.settings import (
    KIND_TYPES,
    SETTINGS,
    CommentSettings,
    build_settings,
    current_settings,
)
from blog.extensions import db
from blog.models import Setting

NEW_VALUES = {
    "max_links": "4",
    "moderation_words": "Offerta\n  casinò \n\n",
    "disallowed_words": "viagra",
    "thread_depth": "3",
    "comments_per_page": "25",
    "comment_order": "newest",
    "close_after_days": "30",
    "flood_seconds": "20",
    "min_seconds": "5",
    "avatars": "none",
}


def test_the_form_has_a_field_for_every_setting(app):
    with app.test_request_context():
        form_fields = {field.name for field in SettingsForm()}
    assert {field.name for field in fields(CommentSettings)} <= form_fields


def test_the_table_and_the_dataclass_agree():
    assert [f.name for f in fields(CommentSettings)] == [s.name for s in SETTINGS]
    defaults = CommentSettings()
    for spec in SETTINGS:
        assert getattr(defaults, spec.name) == spec.default
        assert type(getattr(defaults, spec.name)) is KIND_TYPES[spec.kind]


def test_the_config_defaults_come_from_the_table():
    for spec in SETTINGS:
        assert getattr(config, spec.config_key) == spec.config_default
    assert build_settings(vars(config), {}) == CommentSettings()


def test_an_environment_variable_still_overrides_a_default(monkeypatch, tmp_path):
    monkeypatch.setenv("BLOG_COMMENT_FLOOD_SECONDS", "0")
    monkeypatch.setenv("BLOG_COMMENT_HOLD_ALL", "false")
    monkeypatch.setenv("BLOG_COMMENT_MODERATION_WORDS", "Casinò")
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    )
    settings = build_settings(app.config, {})
    assert settings.flood_seconds == 0
    assert settings.hold_all is False
    assert settings.moderation_words == ("casinò",)


def test_the_form_fields_come_from_the_table(app):
    kinds = {
        "flag": BooleanField,
        "number": IntegerField,
        "choice": SelectField,
        "words": TextAreaField,
    }
    with app.test_request_context():
        form = SettingsForm()
    for spec in SETTINGS:
        field = form[spec.name]
        assert isinstance(field, kinds[spec.kind])
        assert field.label.text == spec.label
        assert field.description == spec.help
        if spec.kind == "number":
            assert (field.flags.min, field.flags.max) == (spec.low, spec.high)
        if spec.kind == "choice":
            assert [(c.value, c.label) for c in field.choices] == list(spec.choices)


def test_every_setting_is_shown_with_its_help(author_client):
    page = soup(author_client.get("/admin/settings"))
    for spec in SETTINGS:
        control = page.find(attrs={"name": spec.name})
        assert control is not None, spec.name
        if spec.help:
            help_text = page.find(id=control["aria-describedby"])
            assert help_text.get_text() == spec.help


def test_the_page_starts_from_the_config_defaults(author_client):
    page = soup(author_client.get("/admin/settings"))
    data = form_data(page.find("form", class_="settings-form"))
    assert data["hold_all"] == "y"
    assert "auto_approve_known" not in data
    assert data["max_links"] == "2"
    assert data["thread_depth"] == "5"
    assert data["comment_order"] == "oldest"
    assert data["avatars"] == "identicon"


def test_saving_stores_every_field(app, author_client):
    page = soup(author_client.get("/admin/settings"))
    data = form_data(page.find("form", class_="settings-form"))
    data.pop("hold_all")  # unticked
    data["auto_approve_known"] = "y"
    data.update(NEW_VALUES)
    response = author_client.post("/admin/settings", data=data)
    assert response.status_code == 302
    assert stored_setting_names(app) == {spec.name for spec in SETTINGS}
    with app.test_request_context():
        saved = current_settings()
    assert saved == CommentSettings(
        hold_all=False,
        auto_approve_known=True,
        max_links=4,
        moderation_words=("offerta", "casinò"),
        disallowed_words=("viagra",),
        thread_depth=3,
        comments_per_page=25,
        comment_order="newest",
        close_after_days=30,
        flood_seconds=20,
        min_seconds=5,
        avatars="none",
    )
    again = form_data(
        soup(author_client.get("/admin/settings")).find("form", class_="settings-form")
    )
    assert "hold_all" not in again
    assert again["moderation_words"] == "offerta\ncasinò"


def stored_setting_names(app) -> set[str]:
    """The settings with a stored override (whatever its value)."""
    with app.app_context():
        keys = set(db.session.scalars(select(Setting.key)))
    return keys & {spec.name for spec in SETTINGS}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("thread_depth", "0", "Inserisci un numero tra 1 e 10."),
        ("max_links", "molti", "Inserisci un numero intero."),
        ("comments_per_page", "", "Inserisci un numero."),
    ],
)
def test_bad_numbers_are_refused_and_nothing_saved(
    app, author_client, field, value, message
):
    page = soup(author_client.get("/admin/settings"))
    # A valid change beside the bad value: saved, it would show.
    response = press(
        author_client,
        page,
        "Salva le impostazioni",
        **{field: value, "flood_seconds": "99"},
    )
    assert response.status_code == 400
    result = soup(response)
    assert result.find(attrs={"name": field}).get("value", "") == value
    errors = [e.get_text() for e in result.select(f".field-{field} .field-error")]
    assert message in errors
    # A value that cannot be read back would fall back to its default, so the
    # stored rows are checked, not only the settings read from them.
    assert stored_setting_names(app) == set()
    with app.test_request_context():
        assert current_settings() == CommentSettings()
