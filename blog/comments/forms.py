"""The reader's comment form, with WordPress's limits and Italian messages."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.fields import EmailField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..core.sanitize.comment import COMMENT_MAX_BYTES
from ..core.text import is_web_url, one_line, row_id, strip_controls
from ..web.forms import ItalianForm

# A stale or missing token: the form comes back with the text, saying so.
CSRF_MESSAGE = "Il modulo è scaduto o non è valido: invialo di nuovo."
# The same when the browser sent no cookie at all: sending again cannot help.
NO_COOKIE_MESSAGE = (
    "Il browser non ha inviato i cookie di questo sito, che servono a "
    "proteggere il modulo: attivali per questo sito e invialo di nuovo."
)
NAME_MAX = 245
EMAIL_MAX = 100
URL_MAX = 200
NOTIFY_REPLIES_LABEL = "Avvisami via email delle risposte al mio commento"
NOTIFY_ALL_LABEL = "Avvisami via email di tutti i nuovi commenti a questo articolo"
CONSENT_LABEL = (
    "Salva il mio nome, email e sito web in questo browser "
    "per la prossima volta che commento."
)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _one_line(value: str | None) -> str | None:
    # A name is one line of text: line breaks would forge mail headers and
    # control characters break feeds.
    return one_line(value) if isinstance(value, str) else value


def _text_without_controls(value: str | None) -> str | None:
    return strip_controls(value) if isinstance(value, str) else value


def _website(value: str | None) -> str | None:
    # WordPress accepts "example.org" and means http://example.org.
    value = _strip(value)
    # Only what reads as a host: "not a url" comes back as typed, with its error.
    if value and ":" not in value and not any(ch.isspace() for ch in value):
        value = "http://" + value
    return value


def _http_url(form: ItalianForm, field: URLField) -> None:
    if not is_web_url(field.data):
        raise ValidationError(
            "Il sito web deve essere un indirizzo che inizia con http:// o https://."
        )


def _comment_text(form: ItalianForm, field: TextAreaField) -> None:
    if not field.data or not field.data.strip():
        raise ValidationError("Scrivi il testo del commento.")
    encoded = field.data.encode("utf-8")
    if len(encoded) > COMMENT_MAX_BYTES:
        # Counted in bytes, as WordPress's column: say how much to cut, in
        # the characters the reader sees (an accented letter takes two).
        fits = len(encoded[:COMMENT_MAX_BYTES].decode("utf-8", "ignore"))
        cut = len(field.data) - fits
        over = f"{cut:,} caratteri".replace(",", ".") if cut > 1 else "1 carattere"
        raise ValidationError(
            f"Il commento è troppo lungo: accorcialo di circa {over} "
            "(il limite è di 65.525 byte; una lettera accentata ne occupa due, "
            "un'emoji quattro)."
        )


class CommentForm(ItalianForm):
    # DataRequired, not InputRequired: a name of spaces alone is empty once the
    # filters have run, and must be refused as a missing one.
    author = StringField(
        "Nome",
        filters=[_one_line],
        validators=[
            DataRequired("Inserisci il tuo nome."),
            Length(max=NAME_MAX, message="Il nome può avere al massimo 245 caratteri."),
        ],
    )
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Inserisci il tuo indirizzo email."),
            Length(
                max=EMAIL_MAX, message="L'email può avere al massimo 100 caratteri."
            ),
            Email("Inserisci un indirizzo email valido."),
        ],
    )
    url = URLField(
        "Sito web",
        filters=[_website],
        validators=[
            Optional(),
            Length(
                max=URL_MAX, message="Il sito web può avere al massimo 200 caratteri."
            ),
            _http_url,
        ],
    )
    comment = TextAreaField(
        "Commento", filters=[_text_without_controls], validators=[_comment_text]
    )
    consent = BooleanField(CONSENT_LABEL)
    notify_replies = BooleanField(NOTIFY_REPLIES_LABEL)
    notify_all = BooleanField(NOTIFY_ALL_LABEL)
    # A trap: hidden from people, irresistible to form-filling robots.
    website = StringField("Lascia vuoto questo campo")
    comment_parent = HiddenField(default="0")
    # Signed render time, for the "sent implausibly fast" rule.
    stamp = HiddenField()
    submit = SubmitField("Invia commento")

    def drop_identity(self) -> None:
        """The signed-in author has a name already: no name, email or website."""
        for name in (
            "author",
            "email",
            "url",
            "consent",
            "notify_replies",
            "notify_all",
        ):
            delattr(self, name)

    def notify(self) -> str:
        """What the reader asked to be mailed about: "all", "replies" or ""."""
        if getattr(self, "notify_all", None) is not None and self.notify_all.data:
            return "all"
        if (
            getattr(self, "notify_replies", None) is not None
            and self.notify_replies.data
        ):
            return "replies"
        return ""

    def parent_id(self) -> int | None:
        """The id of the comment answered, None for a top-level comment."""
        return row_id(self.comment_parent.data)


class EditCommentForm(ItalianForm):
    """The writer's new text for their comment, under the new comment's rules."""

    comment = TextAreaField(
        "Commento", filters=[_text_without_controls], validators=[_comment_text]
    )
    submit = SubmitField("Salva le modifiche")


class DeleteCommentForm(ItalianForm):
    """A button that deletes the writer's comment (CSRF only)."""

    submit = SubmitField("Elimina il commento")
