"""The forms of a reader's privacy requests, and the address field the
author's requests share."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from ..web.forms import ItalianForm, strip


def privacy_email(required: str = "Inserisci l'indirizzo email.") -> EmailField:
    """The address a privacy request is about."""
    return EmailField(
        "Indirizzo email",
        [
            DataRequired(required),
            Email("Inserisci un indirizzo email valido."),
            Length(max=254, message="L'email può avere al massimo 254 caratteri."),
        ],
        filters=[strip],
    )


class DataLinkForm(ItalianForm):
    """A reader asks for the link to their data, mailed to the address."""

    email = privacy_email()
    submit = SubmitField("Mandami il link")


class OwnEraseForm(ItalianForm):
    """A reader, through the mailed link, erases what the address left."""

    delete_texts = BooleanField("Elimina anche i testi dei miei commenti")
    confirm = BooleanField(
        "Confermo: i dati cancellati non si potranno recuperare",
        [DataRequired("Conferma la cancellazione.")],
    )
    submit = SubmitField("Cancella i miei dati")
