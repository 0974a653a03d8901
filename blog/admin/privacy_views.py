"""Privacy requests: export or erase what the blog keeps about an email address."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..accounts.session import author_required, current_author
from ..privacy.requests import erase_personal_data
from ..privacy.views import export_response
from . import bp
from .forms import EraseForm, ExportForm


# Two forms on one page: prefixed, so that their fields' ids differ.
def _export_form(**options) -> ExportForm:
    return ExportForm(prefix="export", **options)


def _erase_form(**options) -> EraseForm:
    return EraseForm(prefix="erase", **options)


def _page(export_form: ExportForm, erase_form: EraseForm, status: int = 200):
    return render_template(
        "admin/privacy.html", export_form=export_form, erase_form=erase_form
    ), status


@bp.get("/privacy")
@author_required
def privacy() -> tuple[str, int]:
    """The privacy requests page: export or erase what an address left."""
    return _page(_export_form(formdata=None), _erase_form(formdata=None))


@bp.post("/privacy/export")
@author_required
def privacy_export() -> ResponseReturnValue:
    """Download as JSON all the blog keeps about an email address."""
    form = _export_form()
    if not form.validate_on_submit():
        return _page(form, _erase_form(formdata=None), 400)
    return export_response(form.email.data, current_author().username)


@bp.post("/privacy/erase")
@author_required
def privacy_erase() -> ResponseReturnValue:
    """Erase what the blog keeps about an email address (its texts too, if asked)."""
    form = _erase_form()
    if not form.validate_on_submit():
        return _page(_export_form(formdata=None), form, 400)
    counts = erase_personal_data(
        form.email.data, form.delete_texts.data, current_author().username
    )
    total = sum(counts.values())
    flash(
        f"Dati di {form.email.data} cancellati: {total} record."
        if total
        else f"Nessun dato trovato per {form.email.data}."
    )
    return redirect(url_for("admin.privacy"))
