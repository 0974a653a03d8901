"""The admin's forms; every one carries the CSRF token and speaks Italian."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
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

from ..core.settings import SETTINGS, SettingSpec
from ..core.text import one_line
from ..privacy.forms import privacy_email
from ..web.forms import ItalianForm, strip

REQUIRED = "Campo obbligatorio."


def options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(ItalianForm):
    username = StringField("Nome utente", [DataRequired(REQUIRED), Length(max=60)])
    password = PasswordField("Password", [DataRequired(REQUIRED), Length(max=200)])
    next = HiddenField()
    submit = SubmitField("Accedi")


class ReplyForm(ItalianForm):
    text = TextAreaField("Risposta", [DataRequired("Scrivi il testo della risposta.")])


class QuickEditForm(ItalianForm):
    # One line, as the readers' form makes it: a name goes into mail subjects.
    author_name = StringField("Nome", [Length(max=245)], filters=[one_line])
    author_email = EmailField(
        "Email", [Optional(), Email("Indirizzo email non valido."), Length(max=100)]
    )
    author_url = URLField(
        "Sito web",
        [Optional(), URL(message="Indirizzo web non valido."), Length(max=200)],
    )
    text = TextAreaField("Testo", [DataRequired("Il testo non può essere vuoto.")])


class PostForm(ItalianForm):
    title = StringField(
        "Titolo", [DataRequired(REQUIRED), Length(max=300)], filters=[one_line]
    )
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
    kind = SelectField(
        "Tipo",
        choices=options(("post", "Articolo"), ("page", "Pagina")),
        description=(
            "Un articolo compare in home page, nei feed e negli archivi; una "
            "pagina («Chi sono», «Contatti») solo dal suo indirizzo, dai link e "
            "dalla ricerca."
        ),
    )
    menu_order = IntegerField(
        "Ordine nel menu",
        [
            Optional(),
            NumberRange(-999, 999, "Inserisci un numero tra -999 e 999."),
        ],
        default=0,
        description="Per le pagine: il menu le mostra in quest'ordine, poi per titolo.",
    )
    comment_status = SelectField(
        "Commenti", choices=options(("open", "Aperti"), ("closed", "Chiusi"))
    )
    ping_status = SelectField(
        "Pingback e webmention",
        choices=options(("open", "Aperti"), ("closed", "Chiusi")),
    )
    revision = HiddenField()  # the saved version the editor was opened on
    save = SubmitField("Salva")
    preview = SubmitField("Anteprima")
    publish = SubmitField("Pubblica")


def setting_field(spec: SettingSpec) -> Field:
    """The unbound admin field of one moderation setting, as its table row says."""
    if spec.kind == "flag":
        return BooleanField(spec.label, description=spec.help)
    if spec.kind == "number":
        return IntegerField(
            spec.label,
            [
                InputRequired("Inserisci un numero."),
                NumberRange(
                    spec.low,
                    spec.high,
                    f"Inserisci un numero tra {spec.low} e {spec.high}.",
                ),
            ],
            description=spec.help,
        )
    if spec.kind == "choice":
        return SelectField(
            spec.label, choices=options(*spec.choices), description=spec.help
        )
    return TextAreaField(spec.label, description=spec.help)


def _with_setting_fields(form: type[ItalianForm]) -> type[ItalianForm]:
    # WTForms also collects fields set on the class after it is made.
    for spec in SETTINGS:
        setattr(form, spec.name, setting_field(spec))
    return form


@_with_setting_fields
class SettingsForm(ItalianForm):
    """The moderation settings page: one field per entry of ``SETTINGS``."""

    submit = SubmitField("Salva le impostazioni")


def _privacy_email() -> EmailField:
    return privacy_email("Inserisci l'indirizzo email di chi fa la richiesta.")


class ExportForm(ItalianForm):
    """A privacy request: everything stored about an address, as JSON."""

    email = _privacy_email()
    submit = SubmitField("Esporta i dati")


class EraseForm(ItalianForm):
    """A privacy request: erase what is stored about an address."""

    email = _privacy_email()
    delete_texts = BooleanField("Elimina anche i testi dei commenti")
    confirm = BooleanField(
        "Confermo: i dati cancellati non si potranno recuperare",
        [DataRequired("Conferma la cancellazione.")],
    )
    submit = SubmitField("Cancella i dati")
