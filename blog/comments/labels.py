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
# What a link or a form for a response deleted for good meanwhile is told.
DELETED_MESSAGE = "Questa risposta non esiste più: è stata eliminata definitivamente."


@dataclass(frozen=True)
class Action:
    label: str
    # Status it moves a response to; None: back to where it was before spam/trash.
    target: str | None
    # Statuses it applies to; others are left alone, so repeating is harmless.
    applies_to: tuple[str, ...]
    # What became of one response, and of several: "1 risposta approvata."
    done: tuple[str, str] = ("", "")

    def result(self, number: int) -> str:
        """What the action did to ``number`` responses, in a sentence."""
        if number == 1:
            return f"1 risposta {self.done[0]}."
        return f"{number} risposte {self.done[1]}."


ACTIONS: dict[str, Action] = {
    # Only a held response: a page or a mail shown before the author marked
    # it spam or trashed it must not publish it (unspam and restore do that).
    "approve": Action("Approva", "approved", ("pending",), ("approvata", "approvate")),
    "unapprove": Action(
        "Non approvare",
        "pending",
        ("approved",),
        ("rimessa in attesa", "rimesse in attesa"),
    ),
    "spam": Action(
        "Spam",
        "spam",
        ("pending", "approved", "trash"),
        ("segnata come spam", "segnate come spam"),
    ),
    "unspam": Action(
        "Non è spam", None, ("spam",), ("tolta dallo spam", "tolte dallo spam")
    ),
    "trash": Action(
        "Cestino",
        "trash",
        ("pending", "approved", "spam"),
        ("spostata nel cestino", "spostate nel cestino"),
    ),
    "restore": Action("Ripristina", None, ("trash",), ("ripristinata", "ripristinate")),
    "delete": Action(
        "Elimina definitivamente",
        None,
        ("spam", "trash"),
        ("eliminata definitivamente", "eliminate definitivamente"),
    ),
}
