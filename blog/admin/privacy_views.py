"""Privacy requests: export or erase what the blog keeps about an email address."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..accounts.session import author_required, current_author
from ..core.text import ascii_domain, normalised_email
from ..privacy.requests import erase_personal_data, export_personal_data
from . import bp
from .forms import EraseForm, ExportForm

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._@-]+")
_UNSAFE_IN_UNICODE_NAME = re.compile(r"[^\w.@-]+")


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
    data = export_personal_data(form.email.data, current_author().username)
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = _attachment(form.email.data)
    return response


def _attachment(email: str) -> str:
    """The export's file name: the address in ASCII (its domain's A-label) for
    old clients, and as written (RFC 6266's ``filename*``) for the others."""
    address = normalised_email(email)
    plain = _UNSAFE_IN_FILE_NAME.sub("_", ascii_domain(address))
    written = _UNSAFE_IN_UNICODE_NAME.sub("_", address)
    return (
        f'attachment; filename="dati-personali-{plain}.json"; '
        f"filename*=UTF-8''{quote(f'dati-personali-{written}.json')}"
    )


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
