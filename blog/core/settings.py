"""Comment settings: config defaults overridden by the author's saved values.

``SETTINGS`` declares each setting once: its config key and default (read by
``blog/config.py``), its type, and the label, help text and bounds or choices
from which the admin builds its form. ``CommentSettings`` takes its defaults
from the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

import click
from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import select

from ..database import session_connection, session_is_untouched
from ..extensions import db
from ..models import Setting
from .memo import kept_for_version

SettingKind = Literal["flag", "number", "choice", "words"]
Value = bool | int | str | tuple[str, ...]
# The Python type each kind of setting holds.
KIND_TYPES: dict[str, type] = {
    "flag": bool,
    "number": int,
    "choice": str,
    "words": tuple,
}

# The settings row whose random value changes with every change to a page
# (written by blog.pagecache, read here with the other settings).
CONTENT_VERSION_KEY = "content_version"
# Its sibling for the author's side: changes with every change to a response,
# held and spam ones included, which no reader's page shows (on SQLite, a new
# response moves the latest id instead: see blog.admin.queue).
RESPONSES_VERSION_KEY = "responses_version"
VERSION_KEYS = (CONTENT_VERSION_KEY, RESPONSES_VERSION_KEY)
# An execution option for a bulk statement that writes no column a reader is
# shown (a response's address and browser): it moves only the responses version.
UNSEEN_BY_READERS = "blog_unseen_by_readers"


@dataclass(frozen=True)
class SettingSpec:
    """One moderation setting: config key, type, default, admin label and limits."""

    name: str
    config_key: str
    kind: SettingKind
    default: Value
    label: str
    help: str = ""
    # The fieldset of the settings page it belongs to.
    group: str = ""
    # Inclusive bounds of a number.
    low: int = 0
    high: int = 0
    # (value, label) pairs of a choice.
    choices: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # A table typo fails at import, not when the author saves the form.
        if type(self.default) is not KIND_TYPES[self.kind]:
            raise TypeError(f"{self.name}: default {self.default!r} is no {self.kind}")
        if self.kind == "number" and not self.low <= self.default <= self.high:
            raise ValueError(f"{self.name}: default outside {self.low}-{self.high}")
        if self.kind == "choice" and self.default not in dict(self.choices):
            raise ValueError(f"{self.name}: default {self.default!r} not a choice")

    @property
    def config_default(self) -> object:
        """The default as written in the config (a word list is one per line)."""
        if isinstance(self.default, tuple):
            return "\n".join(self.default)
        return self.default


APPROVAL = "Approvazione"
THREADS = "Discussioni"
SPAM = "Contro lo spam"
PRIVACY = "Dati dei commentatori"
MAIL = "Email"
# The settings page shows the groups in this order.
GROUPS = (APPROVAL, THREADS, SPAM, PRIVACY, MAIL)

# The deepest thread any setting asks for (WordPress's own bound): pages show
# deeper replies, which only an import can store, at that level.
DEEPEST_THREAD = 10

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "hold_all",
        "COMMENT_HOLD_ALL",
        "flag",
        True,
        "Trattieni ogni commento per l'approvazione",
        "Anche un commento che supera ogni altro controllo aspetta che tu lo approvi.",
        APPROVAL,
    ),
    SettingSpec(
        "auto_approve_known",
        "COMMENT_AUTO_APPROVE_KNOWN",
        "flag",
        False,
        "Approva chi ha già un commento approvato (commentatori conosciuti)",
        "Conta quando i commenti sono trattenuti: il browser del lettore deve "
        "conservare la prova di un suo commento approvato.",
        APPROVAL,
    ),
    SettingSpec(
        "max_links",
        "COMMENT_MAX_LINKS",
        "number",
        2,
        "Trattieni un commento con più di N link",
        "Vale anche per pingback e webmention. 0: basta un link.",
        APPROVAL,
        low=0,
        high=100,
    ),
    SettingSpec(
        "moderation_words",
        "COMMENT_MODERATION_WORDS",
        "words",
        (),
        "Parole da moderare (una per riga)",
        "Cercate nel testo, nel nome, nell'email, nel sito, nell'indirizzo IP e "
        "nel browser, anche dentro altre parole: chi ne contiene una aspetta "
        "l'approvazione.",
        APPROVAL,
    ),
    SettingSpec(
        "disallowed_words",
        "COMMENT_DISALLOWED_WORDS",
        "words",
        (),
        "Parole non consentite: vanno nello spam",
        "Una per riga, cercate come le parole da moderare.",
        APPROVAL,
    ),
    SettingSpec(
        "thread_depth",
        "COMMENT_THREAD_DEPTH",
        "number",
        5,
        "Profondità massima delle discussioni",
        "1: nessuna risposta ai commenti.",
        THREADS,
        low=1,
        high=DEEPEST_THREAD,
    ),
    SettingSpec(
        "comments_per_page",
        "COMMENTS_PER_PAGE",
        "number",
        50,
        "Commenti per pagina",
        "Si contano le discussioni: ogni risposta resta nella pagina del commento "
        "a cui risponde.",
        THREADS,
        low=1,
        high=500,
    ),
    SettingSpec(
        "comment_order",
        "COMMENT_ORDER",
        "choice",
        "oldest",
        "Ordine dei commenti",
        group=THREADS,
        choices=(("oldest", "Prima i meno recenti"), ("newest", "Prima i più recenti")),
    ),
    SettingSpec(
        "close_after_days",
        "COMMENT_CLOSE_AFTER_DAYS",
        "number",
        0,
        "Chiudi i commenti dopo N giorni (0: mai)",
        "Contati dalla pubblicazione dell'articolo.",
        THREADS,
        low=0,
        high=36500,
    ),
    SettingSpec(
        "flood_seconds",
        "COMMENT_FLOOD_SECONDS",
        "number",
        15,
        "Secondi minimi tra due commenti",
        "Per chi scrive dallo stesso indirizzo o con la stessa email; non per te. "
        "0: nessun limite.",
        SPAM,
        low=0,
        high=3600,
    ),
    SettingSpec(
        "min_seconds",
        "COMMENT_MIN_SECONDS",
        "number",
        3,
        "Secondi minimi per compilare il modulo",
        "Un modulo inviato prima torna indietro con il testo e l'invito a "
        "rileggerlo: così in fretta scrivono i programmi, non le persone. "
        "0: nessun controllo.",
        SPAM,
        low=0,
        high=600,
    ),
    SettingSpec(
        "avatars",
        "AVATARS",
        "choice",
        "identicon",
        "Avatar",
        "Con Gravatar il browser di chi legge chiede le immagini a gravatar.com, "
        "e la pagina di ogni commento approvato contiene l'impronta MD5 "
        "dell'email di chi l'ha scritto: chi ha un elenco di indirizzi può "
        "ritrovarli. Gli identicon li disegna il blog, con una chiave segreta.",
        THREADS,
        choices=(
            ("identicon", "Identicon generato dal blog"),
            ("gravatar", "Gravatar (immagini da gravatar.com)"),
            ("none", "Nessun avatar"),
        ),
    ),
    SettingSpec(
        "edit_seconds",
        "COMMENT_EDIT_SECONDS",
        "number",
        900,
        "Secondi in cui chi commenta può modificare o eliminare il suo commento",
        "Solo dal browser con cui l'ha scritto e finché nessuno ha risposto. 0: mai.",
        PRIVACY,
        low=0,
        high=7 * 24 * 3600,
    ),
    SettingSpec(
        "ip_retention_days",
        "COMMENT_IP_RETENTION_DAYS",
        "number",
        60,
        "Giorni dopo i quali cancellare indirizzo IP e browser dei commentatori",
        "0: conservali.",
        PRIVACY,
        low=0,
        high=36500,
    ),
    SettingSpec(
        "trash_days",
        "COMMENT_TRASH_DAYS",
        "number",
        30,
        "Giorni dopo i quali svuotare spam e cestino",
        "Le risposte nello spam o nel cestino da più giorni sono eliminate "
        "definitivamente, con nome, email e testo, come quelle che chi "
        "commenta elimina. 0: conservale.",
        PRIVACY,
        low=0,
        high=36500,
    ),
    SettingSpec(
        "mail_approved",
        "MAIL_APPROVED_COMMENTS",
        "flag",
        False,
        "Avvisami via email anche di ogni commento approvato",
        "Oltre all'avviso dei commenti da moderare: uno per ogni commento dei "
        "lettori che diventa visibile a tutti.",
        MAIL,
    ),
    SettingSpec(
        "held_digest_minutes",
        "MAIL_HELD_DIGEST_MINUTES",
        "number",
        5,
        "Minuti almeno tra un avviso di risposte da moderare e il successivo",
        "La prima risposta in attesa ti arriva subito; quelle che arrivano nei "
        "minuti seguenti, tutte insieme in un solo avviso. 0: appena arrivano.",
        MAIL,
        low=0,
        high=24 * 60,
    ),
)
_DEFAULT = {spec.name: spec.default for spec in SETTINGS}


def config_defaults() -> dict[str, object]:
    """The config keys of the moderation settings with their defaults."""
    return {spec.config_key: spec.config_default for spec in SETTINGS}


@dataclass(frozen=True)
class CommentSettings:
    """The settings in force for comments (moderation, threads and pages, the
    edit window, avatars, retention, mail); field for field those of ``SETTINGS``."""

    hold_all: bool = _DEFAULT["hold_all"]
    auto_approve_known: bool = _DEFAULT["auto_approve_known"]
    max_links: int = _DEFAULT["max_links"]
    moderation_words: tuple[str, ...] = _DEFAULT["moderation_words"]
    disallowed_words: tuple[str, ...] = _DEFAULT["disallowed_words"]
    thread_depth: int = _DEFAULT["thread_depth"]
    comments_per_page: int = _DEFAULT["comments_per_page"]
    comment_order: str = _DEFAULT["comment_order"]
    close_after_days: int = _DEFAULT["close_after_days"]
    flood_seconds: int = _DEFAULT["flood_seconds"]
    min_seconds: int = _DEFAULT["min_seconds"]
    avatars: str = _DEFAULT["avatars"]
    edit_seconds: int = _DEFAULT["edit_seconds"]
    ip_retention_days: int = _DEFAULT["ip_retention_days"]
    trash_days: int = _DEFAULT["trash_days"]
    mail_approved: bool = _DEFAULT["mail_approved"]
    held_digest_minutes: int = _DEFAULT["held_digest_minutes"]

    def __post_init__(self) -> None:
        # A page holds at least one thread, whatever the config says: the
        # paging arithmetic divides by it.
        object.__setattr__(self, "comments_per_page", max(self.comments_per_page, 1))


def parse_word_list(value: object) -> tuple[str, ...]:
    """One entry per line (or list item), trimmed, lower-cased, blanks dropped."""
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    return tuple(w.strip().lower() for w in items if str(w).strip())


_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off", "")


def read_flag(value: object) -> bool:
    """A yes/no value; a word that is neither (``ture``, ``sì``) raises
    ValueError rather than meaning no: a typo must not turn a rule off."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word not in _YES + _NO:
            raise ValueError(f"{value!r} is neither yes nor no")
        return word in _YES
    return bool(value)


def coerce_value(spec: SettingSpec, value: object) -> object:
    """``value`` as ``spec``'s kind holds it; ValueError or TypeError if none."""
    if spec.kind == "flag":
        return read_flag(value)
    if spec.kind == "number":
        return int(value)
    if spec.kind == "words":
        return parse_word_list(value)
    return str(value)


class ConfigValueError(click.ClickException):
    """A configured value the blog cannot use: said in one line at start-up
    (``flask`` and ``wsgi.py`` alike), before anything is served with it."""


def build_settings(
    config: Mapping[str, object], overrides: Mapping[str, str]
) -> CommentSettings:
    """Settings from config defaults, with the stored overrides applied on top."""
    values = {}
    for spec in SETTINGS:
        raw = overrides.get(spec.name, config.get(spec.config_key))
        if raw is None:
            continue
        try:
            values[spec.name] = coerce_value(spec, raw)
        except (TypeError, ValueError):
            continue  # a bad stored value falls back to the default
    return CommentSettings(**values)


# Built once: nearly every request reads the settings.
_STORED_VALUES = select(Setting.key, Setting.value)
# app.extensions key of a reader of the stored content version alone, on a
# connection of its own (``blog.pagecache`` sets it): ``read()`` gives the
# version, "" before the first change, None when the database cannot say.
VERSION_READER = "content_version_reader"
# WSGI environ key: the version that reader gave the page cache for this request.
VERSION_READ = "blog.content_version"
_KEPT = "core.settings"


def _stored_values() -> dict[str, str]:
    """The stored values, kept with the content version (every change to a
    setting moves it) while this request's session holds nothing of its own:
    a setting saved and not yet committed is read back through the session,
    as written. A comment POST in a spam wave reads no setting but the
    version, on the page cache's connection."""
    if "stored_settings" not in g:
        reader = current_app.extensions.get(VERSION_READER)
        version = None
        if reader is not None and session_is_untouched():
            told = request.environ.get(VERSION_READ) if has_request_context() else ""
            version = told or reader.read()
        if version:
            g.stored_settings = kept_for_version(_KEPT, version, "", _read_values)
        else:
            g.stored_settings = _read_values()
    return g.stored_settings


def _read_values() -> dict[str, str]:
    return dict(session_connection().execute(_STORED_VALUES).all())


def current_settings() -> CommentSettings:
    """The settings in force for this request (cached on ``g``)."""
    if "moderation_settings" not in g:
        g.moderation_settings = build_settings(current_app.config, _stored_values())
    return g.moderation_settings


def content_version() -> str:
    """The version of the public content (see ``blog.pagecache``), same query."""
    return _stored_values().get(CONTENT_VERSION_KEY, "")


def serialise(value: object) -> str:
    """The text stored in ``Setting.value`` for a settings value."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return "\n".join(value)
    return str(value)


def save_settings(settings: CommentSettings) -> None:
    """Store every field of ``settings`` as an override (caller commits)."""
    for name, value in asdict(settings).items():
        db.session.merge(Setting(key=name, value=serialise(value)))
    forget_read_settings()


def forget_read_settings() -> None:
    """Make the next ``current_settings`` or ``content_version`` read them again."""
    if has_app_context():
        g.pop("moderation_settings", None)
        g.pop("stored_settings", None)
    if has_request_context():  # the version read before is behind too
        request.environ.pop(VERSION_READ, None)
