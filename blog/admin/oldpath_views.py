"""The old addresses of imported posts: the author sees them and removes them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..accounts.session import author_required
from ..core.text import positive_int
from ..extensions import db
from ..posts.oldpaths import all_paths, delete_path
from . import bp

PER_PAGE = 100


@bp.get("/old-paths")
@author_required
def old_paths() -> str:
    """The table of old paths, each with the post it moves to."""
    pagination = db.paginate(
        all_paths(),
        page=positive_int(request.args.get("page"), 1_000_000) or 1,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("admin/old_paths.html", pagination=pagination)


@bp.post("/old-paths/<id:path_id>/delete")
@author_required
def delete_old_path(path_id: int) -> ResponseReturnValue:
    """Forget one old path: it answers 404 from now on."""
    if delete_path(path_id):
        db.session.commit()
        flash("Indirizzo rimosso: ora risponde «pagina non trovata».")
    else:
        flash("Questo indirizzo era già stato rimosso.", "error")
    return redirect(url_for("admin.old_paths", page=request.args.get("page")))
