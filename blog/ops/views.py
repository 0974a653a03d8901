"""The health check a load balancer or monitor polls."""

from __future__ import annotations

from flask import current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from . import bp


def database_ok() -> bool:
    """True when the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("Health check: database unavailable")
        return False
    return True


@bp.get("/healthz")
def healthz():
    ok = database_ok()
    response = jsonify(
        status="ok" if ok else "error", database="ok" if ok else "unavailable"
    )
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
