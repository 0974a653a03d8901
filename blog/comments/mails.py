"""The comment mails, rendered when the outbox sends them (never in a request).

Each renderer reads the response as it is at that moment and says nothing when
the news is gone: a held response already moderated, a reply withdrawn before
the worker ran, a subscriber who has left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from html import escape
from html.parser import HTMLParser

from flask import current_app, render_template
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import joinedload

from ..core.settings import current_settings
from ..core.text import (
    normalised_email,
    one_line,
    text_blocks_of_html,
    words_of_html,
)
from ..core.urls import site_host, site_url
from ..extensions import db
from ..mail import Postponed, build_message, enqueue, quoted
from ..models import Comment, OutboxMessage, Post, utcnow
from . import mailtokens
from .labels import ACTIONS
from .subscriptions import (
    ASK_KIND,
    CONFIRM_KIND,
    UNCONFIRMED_KEPT,
    ConfirmationRequest,
    ask_after_approval,
    asked_about,
    awaits_confirmation,
    recipients,
    request_for,
    still_subscribed,
    subscription_of,
    what_is_asked,
    writers_to_ask,
)
from .threads import hold_for_change, in_thread, is_shown, thread_root

HELD, VISIBLE, NOTICE, APPROVED = "held", "visible", "notice", "approved"
# A mail quotes the response line by line, where a summary runs its blocks
# together on one line: a line ends where the reader's did (a line break, a
# paragraph's end), and a quotation has lines of its own (within another,
# "a<blockquote>b" read "ab").
_BREAKS = re.compile(
    r"<br\s*/?>|</p>|</li>|<blockquote\b(?:[^>\"]|\"[^\"]*\")*>|</blockquote>",
    re.IGNORECASE,
)


def text_of(html: str) -> str:
    """The sanitised HTML of a response as plain lines, for the text part."""
    return "\n".join(line for line in text_blocks_of_html(html, _BREAKS) if line)


class _InertLinks(HTMLParser):
    """Writes sanitised HTML out again, each link replaced by its words and,
    unless they are the address itself, the address in brackets. Parsed, not
    matched: an attribute may hold a ">" or either quote."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.open_links: list[tuple[str, int]] = []  # (address, its words' start)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            self.open_links.append((dict(attrs).get("href") or "", len(self.out)))
        else:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "a":  # "<a href=…/>": never live either
            super().handle_startendtag(tag, attrs)
        else:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag != "a":
            self.out.append(f"</{tag}>")
        elif self.open_links:
            address, start = self.open_links.pop()
            words = words_of_html("".join(self.out[start:]))
            if address and words != address:
                self.out.append(f" [{escape(address)}]")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")


def links_spelled_out(html: str) -> str:
    """``html`` with each link turned into its words and its address, none of
    them live. A reader's text reaches subscribers under the blog's name:
    "conferma il tuo indirizzo" must not be a link to another site in a mail
    from us."""
    parser = _InertLinks()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


def _author_address(post: Post) -> str:
    return current_app.config.get("MAIL_AUTHOR") or post.author.email or ""


def _visible(comment: Comment | None) -> bool:
    """Whether readers see ``comment`` on its post's page: it and every comment
    it answers are approved (a reply under a hidden comment is not shown)."""
    if comment is None or comment.type != "comment" or not comment.post.is_published:
        return False
    return is_shown(comment)


# Held notices due together go out as one mail of at most this many, the first
# HELD_IN_FULL with their buttons and texts: a spam wave makes one short mail a
# few seconds, not hundreds of long ones, and the queue is where it is sorted.
# Only the responses shown in full are loaded; the rest are counted.
HELD_BATCH = 500
HELD_IN_FULL = 10


# How a notice names each kind of response, in Italian's genders: the one
# that arrived, its quoted text, and where that text comes from.
_NAMED = {
    "comment": ("Un nuovo commento", "Testo del commento", "scritto dal lettore"),
    "pingback": ("Un nuovo pingback", "Estratto del pingback", "da un altro sito"),
    "webmention": (
        "Una nuova webmention",
        "Estratto della webmention",
        "da un altro sito",
    ),
}


@dataclass(frozen=True)
class HeldEntry:
    """One held response as a notice shows it: its words and its buttons."""

    comment: Comment
    arrived: str  # "Un nuovo commento"
    text_of: str  # "Testo del commento"
    origin: str  # "scritto dal lettore"
    buttons: list[tuple[str, str]]

    @classmethod
    def of(cls, comment: Comment) -> HeldEntry:
        """The entry for ``comment``, with its signed single-use buttons."""
        buttons = [
            (ACTIONS[action].label, mail_action_url(comment, action))
            for action in mailtokens.MAIL_ACTIONS
        ]
        reply = site_url(
            "admin.comment",
            comment_id=comment.id,
            rispondi=1,
            creata=comment.created_at.isoformat(),
        )
        return cls(comment, *_NAMED[comment.type], [*buttons, ("Rispondi", reply)])

    def lines(self) -> list[str]:
        """The text part's lines about this response, its text apart."""
        c = self.comment
        title = one_line(c.post.title)
        return [
            f"{self.arrived} su «{title}» è in attesa di moderazione.",
            "",
            f"Autore: {one_line(c.author_name) or '-'} "
            f"(IP: {one_line(c.author_ip) or '-'})",
            f"Email: {one_line(c.author_email) or '-'}",
            f"Sito web: {one_line(c.author_url or c.source_url) or '-'}",
            f"Motivo: {one_line(c.moderation_reason) or '-'}",
            "",
            *(f"{label}: {url}" for label, url in self.buttons),
        ]


def held_message(comments: list[Comment], total: int | None = None) -> EmailMessage:
    """The author's notice of held responses: each one's moderation buttons,
    then their texts; several that arrived together share one mail, which
    shows the first ``HELD_IN_FULL`` and counts the rest (``total`` in all,
    ``len(comments)`` when not given)."""
    total = len(comments) if total is None else total
    entries = [HeldEntry.of(comment) for comment in comments[:HELD_IN_FULL]]
    more = total - len(entries)
    queue = site_url("admin.queue", view="pending")
    first = comments[0]
    if total == 1:
        subject = f"[{one_line(first.post.title)}] Da moderare: "
        subject += one_line(first.author_name)
    else:
        site = one_line(current_app.config["SITE_NAME"])
        subject = f"[{site}] {total} risposte da moderare"
    # The blog's own lines first, each reader-supplied field kept to one line;
    # the readers' texts last and quoted, so none can pose as a link of ours.
    lines: list[str] = []
    for number, entry in enumerate(entries, 1):
        if len(entries) > 1:
            lines += [f"{number}."]
        lines += [*entry.lines(), ""]
    more_line = ""
    if more:
        more_line = (
            f"E altre {more} risposte in attesa, nella coda."
            if more > 1
            else "E un'altra risposta in attesa, nella coda."
        )
        lines += [more_line, ""]
    lines += [f"Tutte le risposte in attesa: {queue}"]
    for number, entry in enumerate(entries, 1):
        which = f"n. {number}, " if len(entries) > 1 else ""
        lines += [
            "",
            f"{entry.text_of} ({entry.origin}, {which}non contiene istruzioni "
            "del blog):",
            *quoted(entry.comment.content),
        ]
    html = render_template(
        "mail/held.html", entries=entries, more_line=more_line, queue=queue
    )
    return build_message(_author_address(first.post), subject, "\n".join(lines), html)


def mail_action_url(comment: Comment, action: str) -> str:
    """The held notice's button: a confirmation page, signed for one action."""
    token = mailtokens.moderation_token(comment.id, comment.created_at, action)
    return site_url("admin.mail_action", token=token)


def render_held(rows: list[OutboxMessage]) -> list[EmailMessage]:
    """The held notice of the rows' responses still waiting; none when all
    were moderated (or deleted) since. The first ``HELD_IN_FULL`` are loaded,
    the rest only counted: two queries, however large the wave."""
    waiting = (
        Comment.id.in_([row.ref_id for row in rows]),
        Comment.status == "pending",
    )
    shown = db.session.scalars(
        select(Comment)
        .where(*waiting)
        .options(joinedload(Comment.post).joinedload(Post.author))
        .order_by(Comment.id)
        .limit(HELD_IN_FULL)
    ).all()
    if not shown:
        return []
    # A response moderated between the two queries must not make the count
    # smaller than the list.
    total = db.session.scalar(select(func.count()).where(*waiting))
    return [held_message(list(shown), max(total, len(shown)))]


def forget_told_of_deleted() -> int:
    """Delete the record of who was told of responses deleted since (the
    caller commits); how many rows. Nobody reads it any more."""
    result = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.kind.in_(TOLD_KINDS),
            ~exists().where(Comment.id == OutboxMessage.ref_id),
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def fan_out(row: OutboxMessage) -> list[EmailMessage]:
    """A response became visible: one notice row per subscriber not yet told,
    and the author's when the setting asks for it."""
    comment = db.session.get(Comment, row.ref_id)
    if not _visible(comment):
        return []
    # Two outbox runs fanning out one response (approved, withdrawn, approved
    # again) take turns: the second reads whom the first told.
    hold_for_change(Comment.id == thread_root(comment))
    told = set(
        db.session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.kind.in_(TOLD_KINDS),
                OutboxMessage.ref_id == comment.id,
                # Not of an earlier response whose id SQLite gave this one.
                OutboxMessage.created_at >= comment.created_at,
            )
        )
    )
    for email in sorted(recipients(comment) - told):
        enqueue(NOTICE, comment.id, email)
    if (
        current_settings().mail_approved
        and comment.author_id is None
        and "" not in told
    ):
        enqueue(APPROVED, comment.id)
    return []


def ask_waiting_writer(row: OutboxMessage) -> list[EmailMessage]:
    """A held comment was approved: the confirmation requests its writer's
    subscriptions waited for, as rows of their own, once readers see it (not
    under a held comment, nor on an unpublished post)."""
    comment = db.session.get(Comment, row.ref_id)
    if comment is None:
        return []
    # It, and the replies approved before it, which readers see only now;
    # not those under a comment still held: asked when that one is approved.
    writers = writers_to_ask(in_thread(thread_root(comment)))
    writers = [each for each in writers if _visible(each)]
    if not writers:
        return []
    # Two runs for one thread (two of its comments approved at once, or one
    # approved, withdrawn and approved again) take turns: the second sees the
    # first's requests.
    hold_for_change(Comment.id == thread_root(comment))
    now = utcnow()
    again = [
        moment
        for each in writers
        if (moment := ask_after_approval(each, now)) is not None
    ]
    # A mailbox that had its day's requests is asked when it has room again,
    # within the week a confirmation link lasts: the reader was told a mail
    # would come with the approval.
    if again and now - row.created_at < UNCONFIRMED_KEPT:
        raise Postponed(min(again))
    return []


def _list_id() -> str:
    name = one_line(current_app.config["SITE_NAME"])
    return f"Commenti di {name} <commenti.{site_host()}>"


def render_notice(row: OutboxMessage) -> list[EmailMessage]:
    """A subscriber's notice of a new reply or comment, if still wanted."""
    comment = db.session.get(Comment, row.ref_id)
    if not _visible(comment) or not still_subscribed(row.recipient, comment):
        return []
    post = comment.post
    title, name = one_line(post.title), one_line(comment.author_name) or "Qualcuno"
    parent = comment.parent
    reply = (
        parent is not None and normalised_email(parent.author_email) == row.recipient
    )
    what = "ha risposto al tuo commento" if reply else "ha scritto un nuovo commento"
    link = site_url("comments.permalink", comment_id=comment.id)
    one_click = site_url(
        "comments.unsubscribe",
        token=mailtokens.unsubscribe_token(row.recipient, post.id),
    )
    manage = site_url(
        "comments.subscriptions", token=mailtokens.manage_token(row.recipient)
    )
    text = links_spelled_out(comment.content_html)
    lines = [
        f"{name} {what} su «{title}»:",
        "",
        *quoted(text_of(text)),
        "",
        f"Leggi e rispondi: {link}",
        "",
        f"Ricevi questa email perché hai chiesto le notifiche su «{title}».",
        f"Non ricevere più avvisi su questo articolo: {one_click}",
        f"Le tue iscrizioni, per annullarne una o tutte: {manage}",
    ]
    html = render_template(
        "mail/notice.html",
        c=comment,
        text=text,
        name=name,
        what=what,
        link=link,
        manage=manage,
        one_click=one_click,
    )
    conversation = f"<post-{post.id}.commenti@{site_host()}>"
    headers = {
        "List-Id": _list_id(),
        "List-Unsubscribe": f"<{one_click}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # One conversation per post in the reader's mail client.
        "In-Reply-To": conversation,
        "References": conversation,
    }
    subject = f"[{title}] {name} {what}"
    return [build_message(row.recipient, subject, "\n".join(lines), html, headers)]


def render_approved(row: OutboxMessage) -> list[EmailMessage]:
    """The author's notice of an approved comment (the setting is on)."""
    comment = db.session.get(Comment, row.ref_id)
    if not _visible(comment):
        return []
    post = comment.post
    title, name = one_line(post.title), one_line(comment.author_name)
    link = site_url("comments.permalink", comment_id=comment.id)
    lines = [
        f"Un nuovo commento di {name or '-'} su «{title}» è stato approvato.",
        "",
        *quoted(text_of(comment.content_html)),
        "",
        f"Sul blog: {link}",
        f"Modera: {site_url('admin.comment', comment_id=comment.id)}",
    ]
    html = render_template("mail/approved.html", c=comment, name=name, link=link)
    subject = f"[{title}] Commento approvato: {name}"
    return [build_message(_author_address(post), subject, "\n".join(lines), html)]


def render_confirm(row: OutboxMessage) -> list[EmailMessage]:
    """The request to confirm a subscription (``ref_id``; None: an address, for
    rows queued before subscriptions were confirmed one by one), unless it was
    confirmed or ended since."""
    asked = ConfirmationRequest(row.recipient)
    if row.ref_id is not None:
        # The link is only ever for the address the row was queued for.
        subscription = subscription_of(row.recipient, row.ref_id)
        if subscription is None:
            return []
        asked = request_for(subscription)
    if not awaits_confirmation(asked):
        return []
    site = one_line(current_app.config["SITE_NAME"])
    title = one_line(asked_about(asked))
    url = site_url("comments.confirm_address", token=mailtokens.confirm_token(asked))
    what = one_line(what_is_asked(asked))
    lines = [
        f"Hai chiesto di ricevere via email {what} ({site}).",
        "",
        "Per confermare, apri questo link e premi il pulsante «Conferma»:",
        f"Conferma: {url}",
        "",
        "Il link resta valido per sette giorni. Se non l'hai chiesto tu, ignora "
        "questa email: "
        "senza conferma non riceverai nessun avviso.",
    ]
    html = render_template("mail/confirm.html", site=site, url=url, what=what)
    subject = f"[{site}] Conferma le notifiche"
    if title:
        subject += f" su «{title}»"
    return [build_message(row.recipient, subject, "\n".join(lines), html)]


def held_digest_spacing() -> timedelta:
    """The least time between two held notices, as the author set it."""
    return timedelta(minutes=current_settings().held_digest_minutes)


BATCHES = {HELD: HELD_BATCH}
SPACINGS = {HELD: held_digest_spacing}
# Their rows say who was told of a response: fan_out reads them, so that an
# approval undone and made again tells nobody twice.
TOLD_KINDS = (NOTICE, APPROVED)
RENDERERS = {
    HELD: render_held,
    VISIBLE: fan_out,
    NOTICE: render_notice,
    APPROVED: render_approved,
    CONFIRM_KIND: render_confirm,
    ASK_KIND: ask_waiting_writer,
}
