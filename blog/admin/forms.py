"""The admin's forms; every one carries the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import EmailField, URLField
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

REQUIRED = "Campo obbligatorio."


def strip(value: object) -> object:
    """Trim text input; leave a missing value alone."""
    return value.strip() if isinstance(value, str) else value


def options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    username = StringField("Nome utente", [DataRequired(REQUIRED), Length(max=60)])
    password = PasswordField("Password", [DataRequired(REQUIRED), Length(max=200)])
    next = HiddenField()
    submit = SubmitField("Accedi")


class ReplyForm(FlaskForm):
    text = TextAreaField("Risposta", [DataRequired("Scrivi il testo della risposta.")])
    next = HiddenField()
    submit = SubmitField("Rispondi")


class QuickEditForm(FlaskForm):
    author_name = StringField("Nome", [Length(max=245)])
    author_email = EmailField(
        "Email", [Optional(), Email("Indirizzo email non valido."), Length(max=100)]
    )
    author_url = URLField(
        "Sito web",
        [Optional(), URL(message="Indirizzo web non valido."), Length(max=200)],
    )
    text = TextAreaField("Testo", [DataRequired("Il testo non può essere vuoto.")])
    next = HiddenField()
    submit = SubmitField("Aggiorna commento")


class PostForm(FlaskForm):
    title = StringField("Titolo", [DataRequired(REQUIRED), Length(max=300)])
    slug = StringField(
        "Slug (vuoto: dal titolo)", [Optional(), Length(max=200)], filters=[strip]
    )
    body = TextAreaField("Testo (HTML)")
    excerpt = TextAreaField("Riassunto", [Optional()])
    category_names = StringField(
        "Categorie (separate da virgole)", [Length(max=500)], filters=[strip]
    )
    published_at = DateTimeLocalField(
        "Data di pubblicazione",
        [Optional()],
        format="%Y-%m-%dT%H:%M",
    )
    status = SelectField(
        "Stato", choices=options(("draft", "Bozza"), ("published", "Pubblicato"))
    )
    comment_status = SelectField(
        "Commenti", choices=options(("open", "Aperti"), ("closed", "Chiusi"))
    )
    ping_status = SelectField(
        "Pingback e webmention",
        choices=options(("open", "Aperti"), ("closed", "Chiusi")),
    )
    save = SubmitField("Salva")
    preview = SubmitField("Anteprima")
    publish = SubmitField("Pubblica")


class WholeNumberField(IntegerField):
    """An integer field whose parse error is in Italian."""

    def process_formdata(self, valuelist: list) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Inserisci un numero intero.") from error


def _number(label: str, low: int, high: int) -> IntegerField:
    return WholeNumberField(
        label,
        [
            InputRequired("Inserisci un numero."),
            NumberRange(low, high, f"Inserisci un numero tra {low} e {high}."),
        ],
    )


class SettingsForm(FlaskForm):
    hold_all = BooleanField("Trattieni ogni commento per l'approvazione")
    auto_approve_known = BooleanField(
        "Approva chi ha già un commento approvato (commentatori conosciuti)"
    )
    max_links = _number("Trattieni un commento con più di N link", 0, 100)
    moderation_words = TextAreaField("Parole da moderare (una per riga)")
    disallowed_words = TextAreaField("Parole non consentite: vanno nello spam")
    thread_depth = _number("Profondità massima delle discussioni", 1, 10)
    comments_per_page = _number("Commenti per pagina", 1, 500)
    comment_order = SelectField(
        "Ordine dei commenti",
        choices=options(
            ("oldest", "Prima i meno recenti"), ("newest", "Prima i più recenti")
        ),
    )
    close_after_days = _number("Chiudi i commenti dopo N giorni (0: mai)", 0, 36500)
    flood_seconds = _number("Secondi minimi tra due commenti", 0, 3600)
    min_seconds = _number("Secondi minimi per compilare il modulo", 0, 600)
    avatars = SelectField(
        "Avatar",
        choices=options(
            ("identicon", "Identicon generato dal blog"),
            ("gravatar", "Gravatar (immagini da gravatar.com)"),
            ("none", "Nessun avatar"),
        ),
    )
    submit = SubmitField("Salva le impostazioni")
