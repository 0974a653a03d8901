"""The health check a load balancer or monitor polls."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..database import error_reason
from ..extensions import db
from ..models import Setting
from . import bp
from .schema import schema_behind


def database_ok() -> bool:
    """True when the database answers a query of the blog's own tables: one
    that answers without them (not made yet, the wrong file) serves no page."""
    try:
        db.session.execute(select(Setting.key).limit(1))
    except SQLAlchemyError as error:
        db.session.rollback()
        # One line: a monitor polls every few seconds through an outage, and a
        # traceback each time would bury the log. The driver's own words say why.
        current_app.logger.error(
            "Health check: database unavailable (%s: %s)",
            type(error).__name__,
            error_reason(error),
        )
        return False
    return True


@bp.get("/healthz")
def healthz() -> Response:
    """The health check: 200 while the database answers at this code's
    schema, else 503 (``schema``: "behind" until ``upgrade-db`` has run)."""
    ok = database_ok()
    behind = schema_behind() if ok else None
    if behind is not None:
        current_app.logger.error(
            "Health check: the database is at revision %s, older than this "
            "code: run '.venv/bin/flask --app blog upgrade-db'",
            behind or "?",
        )
    fields = {"database": "ok" if ok else "unavailable"}
    if ok:
        fields["schema"] = "behind" if behind is not None else "ok"
    healthy = ok and behind is None
    response = jsonify(status="ok" if healthy else "error", **fields)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
