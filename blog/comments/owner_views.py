"""The writer's own comment: "Modifica" and "Elimina", without JavaScript.

Each GET shows a page with a form; only the POST changes anything. Every answer
is private to the browser: it depends on the owner token it holds.
"""

from __future__ import annotations

from flask import (
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from ..core.settings import current_settings
from ..extensions import csrf, db
from ..models import Comment, utcnow
from ..web.errors import render_error
from ..web.postguard import limit_posts
from ..web.security import handles_nul_itself, kept_private
from . import bp
from .forms import CSRF_MESSAGE, DeleteCommentForm, EditCommentForm
from .identity import owner_token, token_hash
from .moderation import Refusal
from .operations import edit_response, withdraw_response
from .ownership import GONE_MESSAGE, has_replies, refuse_change
from .refusals import refused_change_page
from .told import tell_under_comment

DELETED_NOTICE = (
    "Il tuo commento è stato eliminato: non compare più nella pagina. Se è "
    "stato un errore, scrivi all'autore del blog, che può ripristinarlo."
)


def _own_comment(
    comment_id: int, typed: str | None = None
) -> tuple[Comment, Refusal | None]:
    comment = db.session.get(Comment, comment_id)
    if comment is not None and comment.post.is_published:
        refusal = _refusal(comment)
        if refusal is None or refusal.status_code != 404:
            return comment, refusal
    # Gone while the writer typed (deleted, trashed, its post withdrawn): the
    # new text comes back with the 404, to be copied.
    shown = [("Il tuo nuovo testo", typed)] if typed else []
    abort(_private(*render_error(404, GONE_MESSAGE, typed=shown)))


def _refusal(comment: Comment) -> Refusal | None:
    owner_hash = token_hash(owner_token(request))
    return refuse_change(
        comment,
        owner_hash,
        utcnow(),
        current_settings().edit_seconds,
        replied=has_replies(comment, owner_hash),
    )


def _private(body, status: int = 200):
    return kept_private(make_response(body, status))


def _form_status(form) -> int:
    if not form.is_submitted():
        return 200
    if form.csrf_token.errors:
        form.csrf_token.errors = [CSRF_MESSAGE]
    return 400 if form.csrf_token.errors else 422


# The forms check their own CSRF token (FlaskForm), so that a stale token brings
# the writer back to the form with their text instead of to an error page.
@csrf.exempt
@bp.route("/comment/<id:comment_id>/edit", methods=["GET", "POST"])
@limit_posts(refused_change_page)
@handles_nul_itself
def edit(comment_id: int) -> ResponseReturnValue:
    """The writer changes their own comment's text, while the window is open."""
    typed = request.form.get("comment") if request.method == "POST" else None
    comment, refusal = _own_comment(comment_id, typed)
    if refusal is not None and typed is not None and refusal.late:
        # The window closed (or a reply came) while the writer was typing: the
        # new text comes back to be copied, with why it cannot be saved.
        page = render_template(
            "comments/edit.html", comment=comment, refused=refusal.message, typed=typed
        )
        return _private(page, refusal.status_code)
    if refusal is not None:
        return _private(*render_error(refusal.status_code, refusal.message))
    form = EditCommentForm(data={"comment": comment.content})
    if form.validate_on_submit():
        edit_response(comment, form.comment.data, current_settings(), utcnow())
        return redirect(url_for("comments.permalink", comment_id=comment.id))
    status = _form_status(form)  # before rendering: it words the CSRF error
    page = render_template("comments/edit.html", comment=comment, form=form)
    return _private(page, status)


@csrf.exempt
@bp.route("/comment/<id:comment_id>/delete", methods=["GET", "POST"])
@limit_posts(refused_change_page)
@handles_nul_itself
def delete(comment_id: int) -> ResponseReturnValue:
    """The writer withdraws their own comment, while the window is open."""
    comment, refusal = _own_comment(comment_id)
    if refusal is not None:
        return _private(*render_error(refusal.status_code, refusal.message))
    form = DeleteCommentForm()
    if form.validate_on_submit():
        slug = comment.post.slug
        owner_hash = token_hash(owner_token(request))
        edit_seconds = current_settings().edit_seconds
        refusal = withdraw_response(comment, owner_hash, utcnow(), edit_seconds)
        if refusal is not None:
            return _private(*render_error(refusal.status_code, refusal.message))
        # Said on the page: the comment's absence alone tells a screen reader
        # nothing.
        tell_under_comment(0, DELETED_NOTICE)
        return redirect(url_for("posts.detail", slug=slug, _anchor="comments"))
    status = _form_status(form)  # before rendering: it words the CSRF error
    page = render_template(
        "comments/delete.html",
        comment=comment,
        form=form,
        trash_days=current_settings().trash_days,
    )
    return _private(page, status)
