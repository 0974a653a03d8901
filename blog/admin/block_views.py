"""The blocklist: "Blocca" from a response, "Sblocca" from the settings page."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..accounts.session import author_required
from ..comments.blocklist import BlockError, block_sender, commit_block, lift_block
from ..comments.moderation import BLOCK_LABELS
from ..extensions import db
from ..models import Comment
from . import bp
from .actions import spam_held_from
from .urls import safe_next


@bp.post("/comments/<id:comment_id>/block")
@author_required
def block_view(comment_id: int) -> ResponseReturnValue:
    """Block a response's sender ("Blocca"): their next responses go to spam."""
    comment = db.session.get(Comment, comment_id) or abort(404)
    back = safe_next(request.form.get("next"), url_for("admin.queue"))
    try:
        block = block_sender(
            comment, request.form.get("kind", ""), request.form.get("reason", "")
        )
    except BlockError as error:
        flash(str(error), "error")
        # Back to the form, open on the response's page, and then to the queue.
        return redirect(
            url_for("admin.comment", comment_id=comment.id, blocca=1, next=back)
            + f"#blocca-{comment.id}"
        )
    kind, value = block.kind, block.value
    commit_block(kind, value)
    message = (
        f"Bloccato ({BLOCK_LABELS[kind]} {value}): "
        "le sue nuove risposte andranno nello spam."
    )
    if request.form.get("held") == "1":
        moved, more = spam_held_from(kind, value)
        db.session.commit()
        message += f" Risposte in attesa spostate nello spam: {moved}."
        if more:
            message += (
                " Potrebbero essercene altre: premi di nuovo «Blocca» per spostarle."
            )
    flash(message)
    return redirect(back)


@bp.post("/blocks/<id:block_id>/lift")
@author_required
def lift_block_view(block_id: int) -> ResponseReturnValue:
    """Lift a block from the settings page ("Sblocca")."""
    if lift_block(block_id):
        db.session.commit()
        flash("Blocco rimosso.")
    else:
        flash("Questo blocco non c'è più.", "error")
    return redirect(url_for("admin.settings", _anchor="blocks"))
