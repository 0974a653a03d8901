"""The health check a load balancer or monitor polls."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Setting
from . import bp


def database_ok() -> bool:
    """True when the database answers a query of the blog's own tables: one
    that answers without them (not made yet, the wrong file) serves no page."""
    try:
        db.session.execute(select(Setting.key).limit(1))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("Health check: database unavailable")
        return False
    return True


@bp.get("/healthz")
def healthz() -> Response:
    """The health check: 200 while the database answers, else 503."""
    ok = database_ok()
    response = jsonify(
        status="ok" if ok else "error", database="ok" if ok else "unavailable"
    )
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
