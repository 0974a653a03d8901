"""Rate-limit counters in the blog's database, shared by every worker process.

``local://`` (``localstore``) counts in each worker's memory: under gunicorn's
five workers a rule of five sign-in failures would allow twenty-five, and a
recycled worker forgets its counts. The sign-in lock-out counts here instead
whenever the limiter's storage is per process; a Redis or Memcached storage is
shared already and keeps the lock-out too.

Each call is its own short transaction on a connection of its own, opened
outside the app's pool: the request's session may go on to hash a password for
a tenth of a second, and a SQLite write lock held that long would stop every
comment behind it; and a burst of sign-ins, each holding one pooled connection
and waiting for a second, would empty a PostgreSQL pool.
"""

from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import Engine, case, create_engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..core.text import sha256_hex
from ..database import upsert_for
from ..extensions import db
from ..models import RateCounter

SWEEP_EVERY = 60.0  # seconds between two deletions of ended windows


def _wall_clock() -> float:
    return time.time()


_engines: dict[str, Engine] = {}


def _engine() -> Engine:
    # The app's database, without its pool: a connection per count, closed at
    # once (a sign-in is rare; a free connection must never be waited for).
    url = db.engine.url
    key = url.render_as_string(hide_password=False)
    if key not in _engines:
        _engines[key] = create_engine(url, poolclass=NullPool)
    return _engines[key]


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_counter`` table (an app context is
    needed: the table is the current app's database)."""

    # No STORAGE_SCHEME: not a storage an operator can name in
    # RATELIMIT_STORAGE_URI (the POST guard counts before any app context).

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_):
        self.clock = _wall_clock  # tests move it (the module's time)
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception]:
        """The errors of this storage that the limiter may wrap."""
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s count; a new window lasts ``expiry`` s."""
        now = self.clock()
        table = RateCounter.__table__
        engine = _engine()
        statement = upsert_for(engine.dialect.name)(table).values(
            key=sha256_hex(key), count=amount, expires_at=now + expiry
        )
        ended = table.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((ended, amount), else_=table.c.count + amount),
                "expires_at": case((ended, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
        if now >= self._next_sweep:
            # Its own transaction: inside the count's, two workers sweeping at
            # once would each wait for the row the other just counted.
            self._next_sweep = now + SWEEP_EVERY
            with engine.begin() as connection:
                connection.execute(delete(table).where(ended))
        return count

    def get(self, key: str) -> int:
        """The count of ``key`` in its current window (0 when none)."""
        row = self._row(key)
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (now when it has none)."""
        row = self._row(key)
        return row.expires_at if row else self.clock()

    def check(self) -> bool:
        """Healthy while the database answers."""
        try:
            with _engine().connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int:
        """Forget every count; how many keys there were."""
        with _engine().begin() as connection:
            return connection.execute(delete(RateCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""
        table = RateCounter.__table__
        with _engine().begin() as connection:
            connection.execute(delete(table).where(table.c.key == sha256_hex(key)))

    def _row(self, key: str):
        table = RateCounter.__table__
        with _engine().connect() as connection:
            return connection.execute(
                select(table.c.count, table.c.expires_at).where(
                    table.c.key == sha256_hex(key), table.c.expires_at > self.clock()
                )
            ).first()
