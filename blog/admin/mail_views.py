"""Moderating from the held notice: a signed, single-use, seven-day token per
(response, action) opens a confirmation page whose button POSTs the action.

Whoever holds the mail may approve, mark as spam or trash that one response
without signing in: the token is the permission, bound to both, spent once.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from ..comments.labels import ACTIONS, DELETED_MESSAGE, STATUS_LABELS
from ..comments.mailtokens import (
    USED_MESSAGE,
    TokenError,
    read_moderation_token,
    spend,
)
from ..extensions import db
from ..models import Comment
from ..web.errors import render_error
from ..web.postguard import limit_posts
from ..web.refusalpages import small_refusal
from . import bp
from .actions import apply_action
from .rows import response_rows


@bp.route("/email/<token>", methods=["GET", "POST"])
@limit_posts(small_refusal("Troppe richieste, riprova più tardi."))
def mail_action(token: str) -> ResponseReturnValue:
    """A held notice's link: approve, spam or trash one response without signing in."""
    try:
        comment_id, action, created = read_moderation_token(token)
    except TokenError as error:
        return render_error(error.status, str(error))
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.created_at.isoformat() != created:
        # Deleted for good (emptied with the spam, say), its id perhaps
        # another response's now.
        return render_error(404, DELETED_MESSAGE)
    # The author may have acted on it since the mail (marked it spam, say).
    applies = comment.status in ACTIONS[action].applies_to
    done = False
    if request.method == "POST" and applies:
        # Another moderator may act between that look and this action's lock:
        # then nothing is done, and the page says so.
        applies = apply_action(action, [comment.id]) > 0
    if request.method == "POST" and applies:
        spend(token)
        try:
            db.session.commit()
        except IntegrityError:  # the same token spent by a request just before
            db.session.rollback()
            return render_error(410, USED_MESSAGE)
        done = True
    return render_template(
        "admin/mail_action.html",
        c=comment,
        row=response_rows([comment], url_for)[0],
        token=token,
        action=action,
        label=ACTIONS[action].label,
        result=ACTIONS[action].result(1),
        applies=applies,
        status=STATUS_LABELS[comment.status],
        done=done,
    )
