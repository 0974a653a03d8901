"""The reader's privacy pages: ask for the link to one's data, then, through
the mailed link, download it or erase it.

As the pages behind our other mail links: a GET only shows, a button POSTs,
and no cache keeps a page that names an address.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from flask import Response, make_response, render_template, request
from flask.typing import ResponseReturnValue

from ..comments.mailtokens import TokenError, read_data_token
from ..core.text import ascii_domain, normalised_email
from ..extensions import db
from ..web.errors import render_error
from ..web.postguard import limit_posts
from ..web.refusalpages import small_refusal
from ..web.security import kept_private
from . import bp
from .forms import DataLinkForm, OwnEraseForm
from .reader import READER_SOURCES, send_data_link
from .requests import (
    SOURCES,
    PersonalDataSource,
    erase_personal_data,
    export_personal_data,
)

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._@-]+")
_UNSAFE_IN_UNICODE_NAME = re.compile(r"[^\w.@-]+")
# Who the log names for a request made through the mailed link.
BY_THE_WRITER = "chi ha l'indirizzo (link via email)"


def _private(body: str, status: int = 200) -> Response:
    response = kept_private(make_response(body, status))
    # The token in the address is the key to the data: told to no other site.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.route("/i-tuoi-dati/", methods=["GET", "POST"])
@limit_posts(small_refusal())
def ask_for_link() -> ResponseReturnValue:
    """What the blog keeps of a commenter, and the form that mails the link."""
    form = DataLinkForm()
    sent = False
    if form.validate_on_submit():
        send_data_link(form.email.data, request.remote_addr or "")
        db.session.commit()
        sent = True
    status = 400 if form.is_submitted() and not sent else 200
    return _private(render_template("privacy/ask.html", form=form, sent=sent), status)


@bp.route("/i-tuoi-dati/<token>", methods=["GET", "POST"])
@limit_posts(small_refusal())
def own_data(token: str) -> ResponseReturnValue:
    """The mailed link: download the data, or erase it."""
    try:
        email = read_data_token(token)
    except TokenError as error:
        return _private(*render_error(error.status, str(error)))
    form = OwnEraseForm()
    if request.method == "POST" and "export" in request.form:
        # Checked by the CSRF protection every POST passes, as the erasure.
        return export_response(email, BY_THE_WRITER, READER_SOURCES)
    if form.validate_on_submit():
        erase_personal_data(
            email, form.delete_texts.data, BY_THE_WRITER, sources=READER_SOURCES
        )
        return _private(render_template("privacy/erased.html"))
    status = 400 if form.is_submitted() else 200
    page = render_template("privacy/own.html", token=token, email=email, form=form)
    return _private(page, status)


def export_response(
    email: str, who: str, sources: tuple[PersonalDataSource, ...] = SOURCES
) -> Response:
    """What ``sources`` keep about ``email`` (all the blog keeps, by default),
    as a JSON file to download."""
    data = export_personal_data(email, who, sources=sources)
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = _attachment(email)
    return kept_private(response)


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
