"""A reader's own privacy requests: the link to their data, mailed to the
address itself, so that only its owner can export or erase what it left.

WordPress asks the person to confirm by mail before the author acts; here the
mail carries the link, and the person acts without waiting for the author.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, render_template

from ..comments.mailtokens import data_token
from ..comments.personal_data import (
    export_comments,
    known_to_readers,
)
from ..comments.subscriptions import (
    CONFIRMATION_WINDOW,
    MAX_CONFIRMATIONS,
    confirmations_sent,
)
from ..core.text import normalised_email, one_line
from ..core.urls import site_url
from ..mail import build_message, enqueue
from ..models import OutboxMessage, utcnow
from ..web.ratelimit import budget_key, over_budget
from .requests import SOURCES

DATA_LINK_KIND = "data-link"


def _written(email: str) -> list[dict]:
    # Why the author held or refused a comment is the author's note, and would
    # tell a spammer the word lists: the writer gets what they gave and what
    # readers saw, as WordPress's own export of a comment.
    return [
        {key: value for key, value in record.items() if key != "moderation_reason"}
        for record in export_comments(email)
    ]


# What a reader's own request reaches: the author's (``SOURCES``), but the
# author's blocks (a blocked sender's erasure would lift its own block, and its
# export would show the author's reasons) and the reasons a comment was held.
READER_SOURCES = tuple(
    replace(source, export=_written) if source.name == "comments" else source
    for source in SOURCES
    if source.name != "blocks"
)


def send_data_link(email: str, sender_ip: str, now: datetime | None = None) -> None:
    """Queue the mail with the link to ``email``'s data (the caller commits),
    if the blog may write to that address: one readers have seen signing a
    comment, or that confirmed our mails. Whether it did is never told to the
    asker, who may be anyone: the page says the same either way."""
    now = now or utcnow()
    # Counted first, for every request: a script probing addresses spends its
    # budget whether they are known or not.
    per_sender = int(current_app.config["CONFIRMATIONS_PER_SENDER"])
    window = int(CONFIRMATION_WINDOW.total_seconds())
    if over_budget("data-sender", budget_key(sender_ip), per_sender, window):
        return
    address = normalised_email(email)
    # Both questions asked for any address, so that an unknown one is answered
    # after the same queries as a known one.
    sent = confirmations_sent(address, now, DATA_LINK_KIND)
    if known_to_readers(address) and sent < MAX_CONFIRMATIONS:
        enqueue(DATA_LINK_KIND, recipient=address)


def render_data_link(row: OutboxMessage) -> list[EmailMessage]:
    """The mail with the link to the recipient's data."""
    site = one_line(current_app.config["SITE_NAME"])
    url = site_url("privacy.own_data", token=data_token(row.recipient))
    lines = [
        f"È stato chiesto, dalla pagina «I tuoi dati» di {site}, di vedere i dati "
        "che il blog conserva per questo indirizzo.",
        "",
        "Da questo link puoi scaricarli o cancellarli; vale un giorno:",
        f"I tuoi dati: {url}",
        "",
        "Se non l'hai chiesto tu, ignora questa email: senza il link nessuno "
        "vede i tuoi dati.",
    ]
    html = render_template("mail/data_link.html", site=site, url=url)
    subject = f"[{site}] I tuoi dati"
    return [build_message(row.recipient, subject, "\n".join(lines), html)]
