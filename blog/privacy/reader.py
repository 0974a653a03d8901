"""A reader's own privacy requests: the link to their data, mailed to the
address itself, so that only its owner can export or erase what it left.

WordPress asks the person to confirm by mail before the author acts; here the
mail carries the link, and the person acts without waiting for the author.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from flask import current_app, render_template

from ..comments.mailtokens import data_token
from ..comments.personal_data import known_to_readers
from ..comments.subscriptions import CONFIRMATION_WINDOW, confirmations_sent
from ..core.text import normalised_email, one_line
from ..core.urls import site_url
from ..mail import build_message, enqueue
from ..models import OutboxMessage, utcnow
from ..web.ratelimit import budget_key, over_budget

DATA_LINK_KIND = "data-link"
# Links a mailbox may be sent a day, whoever asks: as confirmation requests.
MAX_DATA_LINKS = 3


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
    if not known_to_readers(address):
        return
    if confirmations_sent(address, now, DATA_LINK_KIND) >= MAX_DATA_LINKS:
        return
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
