"""The comment form is written out in its template: each control is what
WTForms' own widget gives for the same field (so a change to either shows)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from helpers_comments import POST_URL, read_form

from blog.comments.forms import CommentForm

# The arguments the template once passed to each widget.
WIDGETS = {
    "author": {"required": True, "maxlength": 245, "autocomplete": "name"},
    "email": {
        "required": True,
        "maxlength": 100,
        "autocomplete": "email",
        "aria-describedby": "email-notes",
    },
    "url": {"maxlength": 200, "autocomplete": "url"},
    "comment": {
        "required": True,
        "rows": 8,
        "cols": 45,
        "maxlength": 65525,
        "aria-describedby": "form-allowed-tags",
    },
    "consent": {},
    "notify_replies": {},
    "notify_all": {},
    "website": {"tabindex": "-1", "autocomplete": "off"},
    "comment_parent": {},
    "stamp": {},
    "csrf_token": {},
    "submit": {"class_": "submit"},
}

SENT = {
    "author": 'Anna "la <b>"',
    "email": "non-una-email",
    "url": "ftp://esempio.it",
    "comment": 'Testo con <em>tag</em> & "virgolette"\r\nsu due righe',
    "consent": "on",
    "notify_all": "y",
    "website": "",
}


@pytest.mark.parametrize("sent", [False, True], ids=["new", "refused"])
def test_each_control_is_what_its_wtforms_widget_gives(app, client, sent):
    action, fields, _post_id = read_form(client)
    if sent:
        page = client.post(action, data={**fields, **SENT})
        assert page.status_code == 422
        data = {**fields, **SENT}
    else:
        page = client.get(POST_URL)
        data = None
    html = page.get_data(as_text=True)
    with app.test_request_context(POST_URL, method="POST", data=data or {}):
        form = CommentForm() if sent else CommentForm(formdata=None)
        if sent:
            form.validate()
        read = dict(read_form_values(html))
        form.csrf_token.current_token = read["csrf_token"]
        form.stamp.data = read["stamp"]
        form.comment_parent.data = read["comment_parent"]
        for name, arguments in WIDGETS.items():
            field = form[name]
            assert str(field(**with_errors_named(field, arguments))) in html, name
            if field.type not in ("CSRFTokenField", "HiddenField", "SubmitField"):
                assert str(field.label) in html, name


def read_form_values(html: str):
    """The hidden fields' values as the page gave them."""
    form = BeautifulSoup(html, "html.parser").select_one("form.comment-form")
    for name in ("csrf_token", "stamp", "comment_parent"):
        yield name, form.select_one(f"input[name={name}]")["value"]


def with_errors_named(field, arguments: dict) -> dict:
    """A control refused by the form names its error for screen readers."""
    if not field.errors or field.type in ("CSRFTokenField", "HiddenField"):
        return arguments
    described = " ".join(
        filter(None, [arguments.get("aria-describedby"), f"{field.id}-error"])
    )
    return {**arguments, "aria-describedby": described, "aria-invalid": "true"}
