"""The moderation settings page: every rule of the comment moderation."""

from __future__ import annotations

from dataclasses import asdict

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..accounts.session import author_required
from ..comments.blocklist import BLOCKS_PER_PAGE, blocks_page
from ..comments.moderation import BLOCK_LABELS
from ..core.settings import (
    GROUPS,
    SETTINGS,
    CommentSettings,
    current_settings,
    parse_word_list,
    save_settings,
)
from ..core.text import listing_page
from ..extensions import db
from . import bp
from .forms import SettingsForm


def settings_from_form(form: SettingsForm) -> CommentSettings:
    """The settings the form describes (it has one field per setting)."""
    values = {spec.name: form[spec.name].data for spec in SETTINGS}
    for spec in SETTINGS:
        if spec.kind == "words":
            values[spec.name] = parse_word_list(values[spec.name] or "")
    return CommentSettings(**values)


def form_data(settings: CommentSettings) -> dict[str, object]:
    """The form's initial values: ``settings``, word lists one per line."""
    values = asdict(settings)
    for spec in SETTINGS:
        if spec.kind == "words":
            values[spec.name] = "\n".join(values[spec.name])
    return values


@bp.route("/settings", methods=["GET", "POST"])
@author_required
def settings() -> ResponseReturnValue:
    """The moderation settings page with the blocklist; POST saves the rules."""
    form = SettingsForm(data=form_data(current_settings()))
    if form.validate_on_submit():
        save_settings(settings_from_form(form))
        db.session.commit()
        flash("Impostazioni salvate.")
        return redirect(url_for("admin.settings"))
    status = 400 if form.is_submitted() else 200
    # The page's fieldsets, each with its settings in the table's order.
    groups = [(group, [s for s in SETTINGS if s.group == group]) for group in GROUPS]
    page = listing_page(request.args.get("blocchi"))
    blocks, page, total = blocks_page(page)
    return render_template(
        "admin/settings.html",
        form=form,
        groups=groups,
        blocks=blocks,
        block_pages=-(-total // BLOCKS_PER_PAGE),
        block_page=page,
        block_labels=BLOCK_LABELS,
    ), status
