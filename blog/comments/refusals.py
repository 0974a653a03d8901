"""The POST guard's refusals of the comment forms: each page rendered once per
app as a shell and filled in for every refusal (``web.refusalpages.blank``), so a
flood costs neither a Flask request nor a query."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, render_template

from ..posts.queries import PostLink
from ..web.postguard import RefusedPost
from ..web.refusalpages import blank, fill_blanks, shell_request
from .forms import CommentForm, DeleteCommentForm, EditCommentForm
from .moderation import Refusal
from .page import render_refusal

OVER_BUDGET_MESSAGE = "Troppi commenti da questo indirizzo: riprova più tardi."
# What the over-budget page gives back of the posted form.
_ECHOED = ("author", "email", "url", "comment", "comment_parent", "stamp")
_FILLED = (*_ECHOED, "csrf_token")
# Ticked or not: a box has no text to fill in, so each combination of ticked
# boxes has its shell (eight at most, each rendered once).
_BOXES = ("consent", "notify_replies", "notify_all")
_SHELLS_BY_BOXES = "comments.over_budget_shells"


def refused_post_page(app: Flask, refused: RefusedPost) -> Response:
    """The comment form's refusal from the POST guard: the refusal page with
    everything typed and ticked, filled into a copy rendered once per app, so
    a flood costs neither a Flask request nor a query."""
    # What a BooleanField takes for unticked.
    ticked = tuple(b for b in _BOXES if refused.form.get(b, "") not in ("", "false"))
    shells = app.extensions.setdefault(_SHELLS_BY_BOXES, {})
    shell = shells.get(ticked) or _render_shell(app, ticked)
    values = {blank(name): refused.form.get(name, "") for name in _FILLED}
    values[blank("message")] = refused.message(OVER_BUDGET_MESSAGE)
    values[blank("slug")] = quote(refused.view_args["slug"])
    return Response(fill_blanks(shell, values), refused.status, mimetype="text/html")


def _render_shell(app: Flask, ticked: tuple[str, ...]) -> str:
    with shell_request(app, f"/{blank('slug')}/comment", method="POST"):
        form = CommentForm(formdata=None)
        for name in _ECHOED:  # set after the filters, which would rewrite a blank
            form[name].data = blank(name)
        for name in ticked:
            form[name].data = True
        form.csrf_token.current_token = blank("csrf_token")
        refusal = Refusal(429, blank("message"))
        page = render_refusal(PostLink(blank("slug")), form, refusal)
        shell = page.get_data(as_text=True)
    app.extensions[_SHELLS_BY_BOXES][ticked] = shell
    return shell


_SHELLS_KEY = "comments.change_refused_shells"
# The button of each view's form, as its own form names it.
_BUTTONS = {
    "comments.edit": EditCommentForm.submit.args[0],
    "comments.delete": DeleteCommentForm.submit.args[0],
}


def refused_change_page(app: Flask, refused: RefusedPost) -> Response:
    """An edit or a deletion refused by the POST guard: its form again, holding
    the typed text, filled into a page rendered once per app (no query)."""
    shells = app.extensions.setdefault(_SHELLS_KEY, {})
    shell = shells.get(refused.endpoint)
    if shell is None:
        shell = shells[refused.endpoint] = _render_change_shell(app, refused.endpoint)
    csrf_field = app.config["WTF_CSRF_FIELD_NAME"]
    values = {
        blank("message"): refused.message(),
        blank("comment"): refused.form.get("comment", ""),
        blank("csrf_token"): refused.form.get(csrf_field, ""),
    }
    return Response(fill_blanks(shell, values), refused.status, mimetype="text/html")


def _render_change_shell(app: Flask, endpoint: str) -> str:
    with shell_request(app):
        return render_template(
            "comments/change_refused.html",
            csrf_field=app.config["WTF_CSRF_FIELD_NAME"],
            kind=endpoint.rpartition(".")[2],
            button=_BUTTONS[endpoint],
            message=blank("message"),
            comment=blank("comment"),
            csrf_token=blank("csrf_token"),
        )
