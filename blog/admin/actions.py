"""What the author does to responses: moderate, reply, edit, delete.

Plain functions over model objects; the caller commits, and the commit bumps
the content version the post page is cached by. A reply is stored, and
committed, by ``comments.operations`` like every other response.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from ..comments.blocklist import held_from_sender
from ..comments.labels import ACTIONS
from ..comments.moderation import REPLY_TOO_DEEP_MESSAGE
from ..comments.operations import (
    EMPTYABLE,
    NewResponse,
    add_response,
    delete_for_good,
    move,
)
from ..comments.subscriptions import follow_corrected_address
from ..comments.threads import hold_for_change, lift_replies
from ..core.sanitize.comment import clean_comment
from ..core.settings import CommentSettings
from ..extensions import db
from ..models import Author, Comment

# The buttons a row shows, by the response's status.
ROW_ACTIONS = {
    "pending": ("approve", "spam", "trash"),
    "approved": ("unapprove", "spam", "trash"),
    "spam": ("unspam", "delete"),
    "trash": ("restore", "delete"),
}
# The bulk choices a queue view offers.
BULK_ACTIONS = {"all": ("approve", "unapprove", "spam", "trash"), **ROW_ACTIONS}
MAX_BULK = 500


class ActionError(ValueError):
    """An action that cannot be done, with the Italian reason."""


def apply_action(
    name: str, comment_ids: Iterable[int], only_from: tuple[str, ...] = ()
) -> int:
    """Do action ``name`` on the given responses (those now in ``only_from``,
    if given, among those it applies to); how many changed."""
    if not name:
        # The bulk menu starts on no action: "Applica" pressed without a
        # choice must not approve (and publish) what was ticked.
        raise ActionError("Scegli un'azione da applicare.")
    action = ACTIONS.get(name)
    if action is None:
        raise ActionError("Azione sconosciuta.")
    ids = sorted(set(comment_ids))[:MAX_BULK]
    if not ids:
        raise ActionError("Seleziona almeno un commento.")
    statuses = [s for s in action.applies_to if not only_from or s in only_from]
    hold_for_change(Comment.id.in_(ids))
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.id.in_(ids), Comment.status.in_(statuses))
        # As they are now that no one else may change them, not as first read.
        .execution_options(populate_existing=True)
    ).all()
    if name == "delete":
        lift_replies(comments)
    # One flush of the new statuses at the end, not one before each look-up
    # of the subscriptions a response moved to spam ends.
    with db.session.no_autoflush:
        for comment in comments:
            if name == "delete":
                db.session.delete(comment)
            else:
                move(comment, action.target or comment.status_before or "pending")
                # The rules' reason ("in attesa di approvazione") would no
                # longer say why the response is where it is now.
                comment.moderation_reason = f"{action.done[0]} dall'autore"
    return len(comments)


def spam_held_from(kind: str, value: str) -> tuple[int, bool]:
    """Move to spam the held responses a new block names ("Blocca" with its
    box ticked): a wave's backlog leaves with its sender. How many, and
    whether more may be left for another click (see ``held_from_sender``)."""
    ids, more = held_from_sender(kind, value)
    if not ids:
        return 0, False
    # Still held once locked: one the author has approved since the scan
    # stays published.
    return apply_action("spam", ids, only_from=("pending",)), more


def empty(status: str, upto: int | None) -> int:
    """Delete for good every response in spam or trash up to id ``upto``, the
    newest when the author's page was made; how many. What arrived after it
    was never shown, so it stays (WordPress keeps the page's time for this)."""
    if status not in EMPTYABLE:
        raise ActionError("Si possono svuotare solo lo spam e il cestino.")
    if upto is None:
        raise ActionError("Ricarica la pagina e svuota di nuovo.")
    return delete_for_good((Comment.status == status) & (Comment.id <= upto))


def newest_response_id() -> int:
    """The highest response id now (0 for none): how far "Svuota" reaches."""
    return db.session.scalar(select(func.max(Comment.id))) or 0


def reply(
    parent: Comment,
    author: Author,
    text: str,
    settings: CommentSettings,
    ip: str = "",
) -> Comment:
    """The author's reply to ``parent``, published and committed now; approves a
    held parent."""
    # Its status as it is now that nobody else may change it: another
    # moderator's "Spam" a moment ago is not undone by this approval.
    hold_for_change(Comment.id == parent.id)
    db.session.refresh(parent, ["status", "status_before"])
    if parent.status not in ("pending", "approved"):
        raise ActionError(
            "Non si può rispondere a un commento nello spam o nel cestino."
        )
    if parent.depth >= settings.thread_depth:
        raise ActionError(REPLY_TOO_DEEP_MESSAGE)
    text = text.strip()
    if not text:
        raise ActionError("Scrivi il testo della risposta.")
    if parent.status == "pending":
        move(parent, "approved")  # committed with the reply
    new = NewResponse(
        content=text,
        author_id=author.id,
        author_name=author.display_name,
        author_email=author.email,
        author_url=author.url,
        author_ip=ip,
        parent=parent,
    )
    return add_response(parent.post, new, settings)


def edit(comment: Comment, name: str, email: str, url: str, text: str) -> None:
    """Quick edit: new author fields and text, re-sanitised."""
    text = text.strip()
    if not text:
        raise ActionError("Il testo del commento non può essere vuoto.")
    comment.author_name = name.strip()
    follow_corrected_address(comment, email.strip())
    comment.author_email = email.strip()
    comment.author_url = url.strip()
    comment.content = text
    comment.content_html = clean_comment(text)
