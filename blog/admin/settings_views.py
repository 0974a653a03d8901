"""The moderation settings page: every rule of the comment moderation."""

from __future__ import annotations

from dataclasses import asdict, fields

from flask import flash, redirect, render_template, url_for

from ..accounts.session import author_required
from ..core.settings import (
    ModerationSettings,
    current_settings,
    parse_word_list,
    save_settings,
)
from ..extensions import db
from . import bp
from .forms import SettingsForm


def settings_from_form(form: SettingsForm) -> ModerationSettings:
    """The settings the form describes (it has one field per setting)."""
    values = {field.name: form[field.name].data for field in fields(ModerationSettings)}
    for name in ("moderation_words", "disallowed_words"):
        values[name] = parse_word_list(values[name] or "")
    return ModerationSettings(**values)


@bp.route("/settings", methods=["GET", "POST"])
@author_required
def settings():
    current = current_settings()
    initial = asdict(current)
    for name in ("moderation_words", "disallowed_words"):
        initial[name] = "\n".join(initial[name])
    form = SettingsForm(data=initial)
    if form.validate_on_submit():
        save_settings(settings_from_form(form))
        db.session.commit()
        flash("Impostazioni salvate.")
        return redirect(url_for("admin.settings"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/settings.html", form=form), status
