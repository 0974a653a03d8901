"""The writer's own comment: "Modifica" and "Elimina", without JavaScript.

Each GET shows a page with a form; only the POST changes anything. Every answer
is private to the browser: it depends on the owner token it holds.
"""

from __future__ import annotations

from flask import (
    Flask,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from ..core.settings import current_settings
from ..extensions import csrf, db
from ..models import Comment, utcnow
from ..web.errors import render_error
from ..web.limits import (
    BUDGET_MESSAGE,
    BUSY_MESSAGE,
    RefusedPost,
    fill_slots,
    limit_posts,
    shell_request,
    slot,
)
from . import bp
from .forms import DeleteCommentForm, EditCommentForm
from .identity import owner_token, token_hash
from .moderation import Refusal
from .operations import edit_response, withdraw_response
from .ownership import has_replies, refuse_change

CSRF_MESSAGE = "Il modulo è scaduto o non è valido: invialo di nuovo."
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
        slot("message"): BUSY_MESSAGE if refused.busy else BUDGET_MESSAGE,
        slot("comment"): refused.form.get("comment", ""),
        slot("csrf_token"): refused.form.get(csrf_field, ""),
    }
    return Response(fill_slots(shell, values), refused.status, mimetype="text/html")


def _render_change_shell(app: Flask, endpoint: str) -> str:
    with shell_request(app):
        return render_template(
            "comments/change_refused.html",
            csrf_field=app.config["WTF_CSRF_FIELD_NAME"],
            kind=endpoint.rpartition(".")[2],
            button=_BUTTONS[endpoint],
            message=slot("message"),
            comment=slot("comment"),
            csrf_token=slot("csrf_token"),
        )


def _own_comment(comment_id: int) -> tuple[Comment | None, Refusal | None]:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not comment.post.is_published:
        abort(404)
    refusal = refuse_change(
        comment,
        token_hash(owner_token(request)),
        utcnow(),
        current_settings().edit_seconds,
        replied=has_replies(comment),
    )
    return comment, refusal


def _private(body, status: int = 200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _form_status(form) -> int:
    if not form.is_submitted():
        return 200
    if form.csrf_token.errors:
        form.csrf_token.errors = [CSRF_MESSAGE]
    return 400 if form.csrf_token.errors else 422


# The forms check their own CSRF token (FlaskForm), so that a stale token brings
# the writer back to the form with their text instead of to an error page.
@csrf.exempt
@bp.route("/comment/<int(max=2147483647):comment_id>/edit", methods=["GET", "POST"])
@limit_posts(refused_change_page)
def edit(comment_id: int):
    comment, refusal = _own_comment(comment_id)
    if refusal is not None:
        return _private(*render_error(refusal.status_code, refusal.message))
    form = EditCommentForm(data={"comment": comment.content})
    if form.validate_on_submit():
        edit_response(comment, form.comment.data, current_settings(), utcnow())
        return redirect(url_for("comments.permalink", comment_id=comment.id))
    page = render_template("comments/edit.html", comment=comment, form=form)
    return _private(page, _form_status(form))


@csrf.exempt
@bp.route("/comment/<int(max=2147483647):comment_id>/delete", methods=["GET", "POST"])
@limit_posts(refused_change_page)
def delete(comment_id: int):
    comment, refusal = _own_comment(comment_id)
    if refusal is not None:
        return _private(*render_error(refusal.status_code, refusal.message))
    form = DeleteCommentForm()
    if form.validate_on_submit():
        slug = comment.post.slug
        withdraw_response(comment)
        return redirect(url_for("posts.detail", slug=slug, _anchor="comments"))
    page = render_template("comments/delete.html", comment=comment, form=form)
    return _private(page, _form_status(form))
