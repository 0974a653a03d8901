"""The base of every form: Flask-WTF's CSRF token, WTForms' own messages in Italian.

A field's explicit message (``DataRequired("Campo obbligatorio.")``) still wins;
``ITALIAN`` answers for the messages WTForms writes itself, such as a select
given a value it does not offer or a number field given letters. Flask-WTF's
own translations need Flask-Babel, which the blog does not use.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence

from flask import g, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf, validate_csrf
from flask_wtf.csrf import logger as csrf_logger
from flask_wtf.form import SUBMIT_METHODS
from wtforms.csrf.core import CSRF, CSRFTokenField
from wtforms.fields import Field, HiddenField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

# WTForms' message (its msgid) -> Italian, placeholders kept.
MESSAGES = {
    "Invalid field name '%s'.": "Nome di campo non valido: '%s'.",
    "Field must be equal to %(other_name)s.": (
        "Il valore deve essere uguale a %(other_name)s."
    ),
    "Field must be between %(min)d and %(max)d characters long.": (
        "Scrivi da %(min)d a %(max)d caratteri."
    ),
    "Number must be at least %(min)s.": "Inserisci un numero non minore di %(min)s.",
    "Number must be at most %(max)s.": "Inserisci un numero non maggiore di %(max)s.",
    "Number must be between %(min)s and %(max)s.": (
        "Inserisci un numero tra %(min)s e %(max)s."
    ),
    "Date must be at least %(min)s.": "La data non può essere prima di %(min)s.",
    "Date must be at most %(max)s.": "La data non può essere dopo %(max)s.",
    "Date must be between %(min)s and %(max)s.": (
        "La data deve essere tra %(min)s e %(max)s."
    ),
    "This field is required.": "Campo obbligatorio.",
    "Invalid input.": "Valore non valido.",
    "Invalid email address.": "Indirizzo email non valido.",
    "Invalid IP address.": "Indirizzo IP non valido.",
    "Invalid Mac address.": "Indirizzo MAC non valido.",
    "Invalid URL.": "Indirizzo web non valido.",
    "Invalid UUID.": "UUID non valido.",
    "Invalid value, must be one of: %(values)s.": (
        "Valore non valido: deve essere uno tra %(values)s."
    ),
    "Invalid value, can't be any of: %(values)s.": (
        "Valore non valido: non può essere nessuno tra %(values)s."
    ),
    "This field cannot be edited.": "Questo campo non si può modificare.",
    "This field is disabled and cannot have a value.": (
        "Questo campo è disattivato e non può avere un valore."
    ),
    "Invalid CSRF Token.": "Il modulo non è valido: ricarica la pagina e riprova.",
    "CSRF token missing.": "Il modulo non è valido: ricarica la pagina e riprova.",
    "CSRF failed.": "Il modulo non è valido: ricarica la pagina e riprova.",
    "CSRF token expired.": "Il modulo è scaduto: ricarica la pagina e riprova.",
    "Invalid Choice: could not coerce.": "Scegli una delle opzioni proposte.",
    "Choices cannot be None.": "Nessuna opzione disponibile.",
    "Not a valid choice.": "Scegli una delle opzioni proposte.",
    "Invalid choice(s): one or more data inputs could not be coerced.": (
        "Scegli tra le opzioni proposte."
    ),
    "Not a valid datetime value.": "Inserisci una data e un'ora valide.",
    "Not a valid date value.": "Inserisci una data valida.",
    "Not a valid time value.": "Inserisci un'ora valida.",
    "Not a valid week value.": "Inserisci una settimana valida.",
    "Not a valid integer value.": "Inserisci un numero intero.",
    "Not a valid decimal value.": "Inserisci un numero.",
    "Not a valid float value.": "Inserisci un numero.",
}
# Singular msgid -> (Italian singular, Italian plural).
PLURAL_MESSAGES = {
    "Field must be at least %(min)d character long.": (
        "Scrivi almeno %(min)d carattere.",
        "Scrivi almeno %(min)d caratteri.",
    ),
    "Field cannot be longer than %(max)d character.": (
        "Scrivi al massimo %(max)d carattere.",
        "Scrivi al massimo %(max)d caratteri.",
    ),
    "Field must be exactly %(max)d character long.": (
        "Scrivi esattamente %(max)d carattere.",
        "Scrivi esattamente %(max)d caratteri.",
    ),
    "'%(value)s' is not a valid choice for this field.": (
        "«%(value)s» non è tra le opzioni proposte.",
        "«%(value)s» non sono tra le opzioni proposte.",
    ),
}


class ItalianMessages:
    """WTForms' translations interface (``gettext``/``ngettext``) in Italian."""

    def gettext(self, string: str) -> str:
        """The Italian message; any other text (a default label) as it is."""
        return MESSAGES.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The Italian singular or plural message for ``n``."""
        one, many = PLURAL_MESSAGES.get(singular, (singular, plural))
        return one if n == 1 else many


ITALIAN = ItalianMessages()


class TokenMadeWhenShown(CSRFTokenField):
    """The CSRF field, whose token is signed when the form is shown, not when
    it is built: a form sent and accepted (a comment stored, a button pressed)
    never shows it."""

    _token: str | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.type = "CSRFTokenField"  # what templates and checks know it by

    @property
    def current_token(self) -> str:  # type: ignore[override]
        """The token the form shows: this request's, signed on first use."""
        if self._token is None:
            try:
                self._token = self.csrf_impl.generate_csrf_token(self)
            except AttributeError as error:
                # Read by a template, it would be an empty token, not an error.
                raise RuntimeError(f"the CSRF token was not made: {error}") from error
        return self._token

    @current_token.setter
    def current_token(self, value: str) -> None:
        self._token = value

    def process(self, *args: object, **kwargs: object) -> None:
        """Read what was sent, as any hidden field: no token is made yet."""
        HiddenField.process(self, *args, **kwargs)


class CSRFMadeWhenShown(CSRF):
    """Flask-WTF's form protection (its ``generate_csrf`` and
    ``validate_csrf``), with ``TokenMadeWhenShown`` as its field."""

    field_class = TokenMadeWhenShown

    def setup_form(self, form: FlaskForm) -> list:
        """Keep the form's settings (secret, field name, time limit)."""
        self.meta = form.meta
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: CSRFTokenField) -> str:
        """This request's token, the one the page cache puts in pages too."""
        return generate_csrf(
            secret_key=self.meta.csrf_secret, token_key=self.meta.csrf_field_name
        )

    def validate_csrf_token(self, form: FlaskForm, field: CSRFTokenField) -> None:
        """The token sent must be this session's, and not older than allowed."""
        if g.get("csrf_valid", False):
            return  # CSRFProtect has checked this request already
        try:
            validate_csrf(
                field.data,
                self.meta.csrf_secret,
                self.meta.csrf_time_limit,
                self.meta.csrf_field_name,
            )
        except ValidationError as error:
            csrf_logger.info(error.args[0])  # as Flask-WTF logs a refused token
            raise


class ItalianForm(FlaskForm):
    """A Flask-WTF form whose built-in validation messages are Italian, and
    whose first field in error takes the focus when the form comes back."""

    # The name of that field ('' when none): for controls a template writes out.
    first_invalid = ""

    class Meta:
        csrf_class = CSRFMadeWhenShown

        def bind_field(
            self, form: FlaskForm, unbound_field: UnboundField, options: dict
        ) -> Field:
            """Bind as WTForms does, the field holding its form weakly.

            A form holds its fields; fields holding their form back made each
            form a reference cycle, which only the garbage collector frees: on
            a comment POST, two thirds of what was left for it. Nothing of the
            blog reads a field's form after the form is gone.
            """
            return unbound_field.bind(
                form=weakref.proxy(form), _meta=form.meta, **options
            )

        def wrap_formdata(self, form: FlaskForm, formdata: object) -> object:
            """The request's form fields only. Flask-WTF would also take its
            files and a JSON body, and a file or a number in a text field's
            place reaches validators that cannot read it (a 500): no form of
            the blog takes either."""
            if formdata is None or hasattr(formdata, "getlist"):
                return formdata  # given by the caller
            # Flask-WTF's marker for "from the request".
            if request.method not in SUBMIT_METHODS:
                return None
            return request.form or None

        def get_translations(self, form: FlaskForm) -> ItalianMessages:
            """The same Italian messages for every form and request."""
            return ITALIAN

    def validate(
        self, extra_validators: Mapping[str, Sequence[Callable]] | None = None
    ) -> bool:
        """Validate, and put the browser's focus in the first field to fix."""
        valid = super().validate(extra_validators)
        first = next((f for f in self if f.errors and f.type != "CSRFTokenField"), None)
        if first is not None:
            # Without JavaScript: the browser puts the reader in the field to fix.
            first.render_kw = {**(first.render_kw or {}), "autofocus": True}
            self.first_invalid = first.name
        return valid


def strip(value: object) -> object:
    """Trim text input; leave a missing value alone (a WTForms filter)."""
    return value.strip() if isinstance(value, str) else value
