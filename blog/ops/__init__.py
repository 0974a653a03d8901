"""Operations: health check, schema upgrades, backups."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from . import views  # noqa: E402,F401
