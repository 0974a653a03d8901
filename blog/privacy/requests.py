"""Privacy requests, as WordPress's Tools → Export/Erase Personal Data.

What the blog keeps about a person is spread over "personal data sources",
each able to export and erase by email; a request asks every one of them, and
is logged (who, when, which address, how many records) without the data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..comments.personal_data import (
    erase_blocks,
    erase_comments,
    erase_subscriptions,
    export_blocks,
    export_comments,
    export_subscriptions,
)
from ..extensions import db
from ..models import utcnow

log = logging.getLogger("blog.privacy")


@dataclass(frozen=True)
class PersonalDataSource:
    """One place that keeps personal data, found by email address."""

    name: str  # the key of its records in an export
    export: Callable[[str], list[dict]]
    # (email, delete_texts) -> how many records were erased; the caller commits.
    erase: Callable[[str, bool], int]


# Another place that keeps data by address is one more entry here.
SOURCES: tuple[PersonalDataSource, ...] = (
    PersonalDataSource("comments", export_comments, erase_comments),
    PersonalDataSource("subscriptions", export_subscriptions, erase_subscriptions),
    PersonalDataSource("blocks", export_blocks, erase_blocks),
)


INVALID_ADDRESS = "Inserisci un indirizzo email valido."


class AddressError(ValueError):
    """What a request was given is no email address."""


def _checked(email: str) -> str:
    # A blank address would name every record stored without one (pingbacks,
    # the author's replies, the author's queued notices): never a person's.
    local, at, domain = email.strip().rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in local + domain):
        raise AddressError(INVALID_ADDRESS)
    return email


def _audit(action: str, email: str, who: str, records: int, now: datetime) -> None:
    # WARNING, like the mail log: gunicorn's error log shows it by default.
    log.warning(
        "Richiesta sui dati personali: %s di %s da %s il %s, %d record",
        action,
        email,
        who,
        now.isoformat(timespec="seconds") + "Z",  # stored times are UTC
        records,
    )


def export_personal_data(
    email: str,
    who: str,
    now: datetime | None = None,
    sources: tuple[PersonalDataSource, ...] = SOURCES,
) -> dict:
    """Everything the sources keep about ``email``, as one JSON-ready mapping;
    AddressError when it is no address."""
    email = _checked(email)
    now = now or utcnow()
    data: dict = {
        "email": email,
        "exported_at": now.isoformat(timespec="seconds") + "Z",
    }
    records = 0
    for source in sources:
        data[source.name] = source.export(email)
        records += len(data[source.name])
    _audit("esportazione", email, who, records, now)
    return data


def erase_personal_data(
    email: str,
    delete_texts: bool,
    who: str,
    now: datetime | None = None,
    sources: tuple[PersonalDataSource, ...] = SOURCES,
) -> dict[str, int]:
    """Erase what every source keeps about ``email``, and commit; records per
    source. AddressError when it is no address."""
    email = _checked(email)
    now = now or utcnow()
    counts = {source.name: source.erase(email, delete_texts) for source in sources}
    db.session.commit()
    action = "cancellazione (testi eliminati)" if delete_texts else "cancellazione"
    _audit(action, email, who, sum(counts.values()), now)
    return counts
