"""Flask extensions, created once here and bound to an app in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so migrations can drop or alter them (SQLite batch mode
# needs a name for every constraint it recreates).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
migrate = Migrate()
# Storage from RATELIMIT_STORAGE_URI (local:// by default, per worker process).
# Each refusal sets its own Retry-After: Flask-Limiter's headers would put one
# on accepted answers too, and on a redirect that delays the reader.
limiter = Limiter(key_func=get_remote_address, headers_enabled=False)
