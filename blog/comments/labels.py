"""The words the queue, the mails and the pages use for responses and actions."""

from __future__ import annotations

from dataclasses import dataclass

TYPE_LABELS = {
    "comment": "Commento",
    "pingback": "Pingback",
    "webmention": "Webmention",
}
# A response's status as the admin pages name it.
STATUS_LABELS = {
    "pending": "In attesa",
    "approved": "Approvato",
    "spam": "Spam",
    "trash": "Cestino",
}


@dataclass(frozen=True)
class Action:
    label: str
    # Status it moves a response to; None: back to where it was before spam/trash.
    target: str | None
    # Statuses it applies to; others are left alone, so repeating is harmless.
    applies_to: tuple[str, ...]


ACTIONS: dict[str, Action] = {
    # Only a held response: a page or a mail shown before the author marked
    # it spam or trashed it must not publish it (unspam and restore do that).
    "approve": Action("Approva", "approved", ("pending",)),
    "unapprove": Action("Non approvare", "pending", ("approved",)),
    "spam": Action("Spam", "spam", ("pending", "approved", "trash")),
    "unspam": Action("Non è spam", None, ("spam",)),
    "trash": Action("Cestino", "trash", ("pending", "approved", "spam")),
    "restore": Action("Ripristina", None, ("trash",)),
    "delete": Action("Elimina definitivamente", None, ("spam", "trash")),
}
