"""The moderation queue: list, per-response page, actions, reply, quick edit."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from ..accounts.session import author_required, current_author
from ..comments.labels import DELETED_MESSAGE, TYPE_LABELS
from ..core.settings import current_settings
from ..core.text import row_id
from ..extensions import db
from ..models import Comment
from ..web.errors import render_error, typed_fields
from . import bp
from .actions import (
    ACTIONS,
    BULK_ACTIONS,
    EMPTYABLE,
    ROW_ACTIONS,
    ActionError,
    apply_action,
    edit,
    empty,
    newest_response_id,
    reply,
)
from .forms import QuickEditForm, ReplyForm
from .queue import PER_PAGE_CHOICES, VIEWS, QueueQuery, post_choices, queue_page
from .rows import queue_rows_markup, response_rows
from .urls import safe_next
from .views import counts


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("admin.queue"))


def _done(number: int, action: str) -> None:
    flash(ACTIONS[action].result(number) if number else "Nessuna modifica.")


@bp.get("/comments")
@author_required
def queue() -> ResponseReturnValue:
    """The moderation queue: one page of responses, filtered and searched."""
    query = QueueQuery.from_args(request.args)
    page = queue_page(query, counts())
    if query.page > 1 and not page.items:
        # Past the end: the last page, as after acting on its only rows.
        # A search's total is not counted: its first page, at once.
        last = min(page.pages, query.page - 1) if page.pages else 1
        return redirect(url_for("admin.queue", **query.args(page=last)))
    here = request.full_path.rstrip("?")
    return render_template(
        "admin/comments.html",
        query=query,
        page=page,
        here=here,
        rows=queue_rows_markup(page.items, url_for, here, generate_csrf()),
        views=VIEWS,
        types=TYPE_LABELS,
        posts=post_choices(),
        per_page_choices=PER_PAGE_CHOICES,
        actions=ACTIONS,
        bulk_actions=BULK_ACTIONS[query.view],
        emptyable=EMPTYABLE,
        newest=newest_response_id() if query.view in EMPTYABLE else None,
    )


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    # A held notice's "Rispondi" names the response's creation time too: SQLite
    # gives a deleted response's id to the next one, which the author never saw.
    created = request.args.get("creata")
    if (
        request.method == "GET"
        and created is not None
        and (comment is None or comment.created_at.isoformat() != created)
    ):
        page, code = render_error(404, DELETED_MESSAGE)
        abort(make_response(page, code))
    if comment is None and request.method == "POST":
        # Deleted for good meanwhile: a reply or an edit typed for it comes back.
        page, code = render_error(
            404,
            DELETED_MESSAGE,
            typed=typed_fields(current_app.config["WTF_CSRF_FIELD_NAME"]),
        )
        abort(make_response(page, code))
    return comment or abort(404)


def _render_comment(comment: Comment, status: int = 200, message: str = "", **forms):
    requested = request.args.get("azione", "")
    return render_template(
        "admin/comment.html",
        c=comment,
        row=response_rows([comment], url_for)[0],
        message=message,
        requested=requested if requested in ROW_ACTIONS.get(comment.status, ()) else "",
        actions=ACTIONS,
        reply_form_obj=forms.get("reply_form") or ReplyForm(formdata=None),
        # The held notice's "Rispondi" button opens the reply form.
        reply_open=request.args.get("rispondi") == "1",
        edit_form_obj=forms.get("edit_form"),
        # A queue row's "Modifica rapida" and "Blocca" links open their forms.
        edit_open=request.args.get("modifica") == "1",
        block_open=request.args.get("blocca") == "1",
        # Where its forms send the author back: the queue page the link came
        # from (kept through a form sent back with errors), else this page.
        back=safe_next(request.values.get("next"), ""),
    ), status


@bp.get("/comments/<id:comment_id>")
@author_required
def comment(comment_id: int) -> tuple[str, int]:
    """One response's moderation page, with its actions, reply and edit forms."""
    return _render_comment(_comment_or_404(comment_id))


@bp.post("/comments/<id:comment_id>/action")
@author_required
def comment_action(comment_id: int) -> ResponseReturnValue:
    """One response's action from its row or page (approve, spam, trash, …)."""
    return _act(request.form.get("action", ""), [comment_id])


@bp.post("/comments/bulk")
@author_required
def bulk() -> ResponseReturnValue:
    """The action chosen for the responses ticked in the queue."""
    ids = [n for v in request.form.getlist("ids") if (n := row_id(v))]
    above, below = request.form.get("action", ""), request.form.get("action_below", "")
    if request.form.get("below"):
        return _act(below, ids)  # the button under the rows: its own menu
    # The top button, or Enter in a ticked box (the browser's default button):
    # when the two menus say different things, neither is taken for sure.
    if above and below and above != below:
        flash(TWO_CHOICES_MESSAGE, "error")
        return redirect(_back())
    return _act(above or below, ids)


def _asked_first(question: str, button: str):
    """The page that asks before a deletion for good, or None once it has been
    answered: its form sends the same fields again, confirmed."""
    if request.form.get("confermato") == "1":
        return None
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", "confermato")
    ]
    return render_template(
        "admin/confirm.html",
        question=question,
        button=button,
        fields=fields,
        back=_back(),
    )


TWO_CHOICES_MESSAGE = (
    "I due menu delle azioni di gruppo dicono cose diverse: scegli l'azione in "
    "uno solo (l'altro su «Scegli un'azione») e premi il suo «Applica»."
)


def _act(name: str, ids: list[int]):
    if name == "delete":
        asked = _asked_first(
            "Eliminare definitivamente le risposte scelte?"
            if len(ids) > 1
            else "Eliminare definitivamente questa risposta?",
            ACTIONS[name].label,
        )
        if asked is not None:
            return asked
    try:
        number = apply_action(name, ids)
    except ActionError as error:
        flash(str(error), "error")
        return redirect(_back())
    db.session.commit()
    _done(number, name)
    return redirect(_back())


@bp.post("/comments/empty")
@author_required
def empty_view() -> ResponseReturnValue:
    """Empty the spam or the trash, once the author confirms, up to what was shown."""
    status = request.form.get("status", "")
    asked = _asked_first(
        f"Svuotare {'lo spam' if status == 'spam' else 'il cestino'}? Le risposte "
        "che contiene saranno eliminate definitivamente.",
        "Svuota",
    )
    if asked is not None:
        return asked
    try:
        number = empty(request.form.get("status", ""), row_id(request.form.get("upto")))
    except ActionError as error:
        flash(str(error), "error")
        return redirect(_back())
    db.session.commit()
    _done(number, "delete")
    return redirect(_back())


@bp.post("/comments/<id:comment_id>/reply")
@author_required
def reply_view(comment_id: int) -> ResponseReturnValue:
    """The author's reply to a response, published from the queue."""
    parent = _comment_or_404(comment_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            reply(
                parent,
                current_author(),
                form.text.data,
                current_settings(),
                request.remote_addr or "",
            )
        except ActionError as error:
            if parent.status in EMPTYABLE:
                # Moved meanwhile: its page shows no reply form to hold the text.
                typed = typed_fields(current_app.config["WTF_CSRF_FIELD_NAME"])
                return render_error(400, str(error), typed=typed)
            return _render_comment(parent, 400, str(error), reply_form=form)
        flash("Risposta pubblicata.")
        return redirect(_back())
    return _render_comment(parent, 400, reply_form=form)


@bp.post("/comments/<id:comment_id>/edit")
@author_required
def edit_view(comment_id: int) -> ResponseReturnValue:
    """The quick edit of a response: its writer's name, email, website and text."""
    comment = _comment_or_404(comment_id)
    form = QuickEditForm()
    if form.validate_on_submit():
        try:
            edit(
                comment,
                form.author_name.data,
                form.author_email.data or "",
                form.author_url.data or "",
                form.text.data,
            )
        except ActionError as error:
            return _render_comment(comment, 400, str(error), edit_form=form)
        db.session.commit()
        flash("Commento aggiornato.")
        return redirect(_back())
    return _render_comment(comment, 400, edit_form=form)
