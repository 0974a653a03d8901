"""Error pages in Italian; a failed request never shows a traceback."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import Flask, Response, g, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..database import database_hint, error_reason, names_an_older_schema
from ..extensions import db

MESSAGES = {
    400: (
        "Richiesta non valida",
        "Il browser ha inviato una richiesta che il blog non riesce a leggere. "
        "Ricarica la pagina e riprova.",
    ),
    403: ("Operazione non consentita", "Non hai il permesso di farlo."),
    404: (
        "Pagina non trovata",
        "La pagina che cerchi non esiste o è stata spostata.",
    ),
    405: (
        "Metodo non consentito",
        "Questa pagina non accetta questo tipo di richiesta.",
    ),
    410: ("Link non più valido", "Questo link è scaduto o è già stato usato."),
    413: (
        "Richiesta troppo grande",
        "Il testo inviato è troppo lungo e non è stato salvato. Torna indietro "
        "con il pulsante del browser (il testo dovrebbe essere ancora lì), "
        "accorcialo e invialo di nuovo.",
    ),
    416: (
        "Intervallo non disponibile",
        "La parte richiesta non esiste: chiedi la pagina intera.",
    ),
    429: ("Troppe richieste", "Stai facendo troppe richieste. Riprova più tardi."),
    500: ("Errore del server", "Qualcosa è andato storto. Riprova tra poco."),
    503: (
        "Servizio non disponibile",
        "Il blog non riesce a leggere o scrivere i suoi dati in questo momento. "
        "Riprova tra qualche istante.",
    ),
}
# Seconds a client is asked to wait when the database does not answer.
DATABASE_RETRY_AFTER = 10


# Fields a form carries for itself or that are ticked, never typed; and the
# comment form's trap, which only robots fill in.
_NOT_TYPED = frozenset(
    {"next", "action", "ids", "status", "upto", "stamp", "comment_parent", "kind"}
    | {"consent", "notify_replies", "notify_all", "delete_texts", "confirm"}
    | {"website", "confermato", "revision", "comment_status", "ping_status"}
    | {"menu_order", "submit", "save", "preview", "publish", "export"}
    | {"action_below", "below", "subscription", "held"}
)
# What the forms call their fields, for the page that gives them back.
_LABELS = {
    "author": "Nome",
    "author_name": "Nome",
    "email": "Email",
    "author_email": "Email",
    "url": "Sito web",
    "author_url": "Sito web",
    "comment": "Commento",
    "text": "Testo",
    "title": "Titolo",
    "body": "Testo",
    "excerpt": "Riassunto",
    "slug": "Slug",
    "category_names": "Categorie",
    "published_at": "Data di pubblicazione",
    "username": "Nome utente",
    "reason": "Motivo",
}


def typed_fields(csrf_field: str) -> list[tuple[str, str]]:
    """What a refused form held that someone typed (label, text): given back on
    the error page, so a stale token loses nothing (a post, a reply, an edit)."""
    return [
        (_LABELS.get(name, name), value)
        for name, value in request.form.items()
        if name != csrf_field
        and name not in _NOT_TYPED
        and "password" not in name  # never shown again on a page
        and value.strip()
    ][:20]


def render_error(
    code: int,
    message: str | None = None,
    typed: Sequence[tuple[str, str]] = (),
    way_on: tuple[str, str] | None = None,
) -> tuple[str, int] | Response:
    """Render the Italian error page for ``code`` (with what was ``typed``, and
    ``way_on``'s label and address as the link to follow)."""
    title, default = MESSAGES.get(
        code, (f"Errore {code}", "Si è verificato un errore.")
    )
    if request_ctx.url_adapter is None:
        # The request's host could not be read (a malformed Host header): no
        # link of the site's page can be built, so this one has none.
        return bare_page(title, message or default, code)
    return render_template(
        "errors/error.html",
        code=code,
        title=title,
        message=message or default,
        typed=typed,
        way_on=way_on,
    ), code


def bare_page(
    title: str, message: str, status: int, typed: Sequence[tuple[str, str]] = ()
) -> Response:
    """A small Italian page with a title and a message (and what was ``typed``):
    no template, no link, no database (a refusal in front of Flask, a host no
    link can be built for, a database that fails the error page too)."""
    kept = "".join(
        f'<p><label for="typed-{number}">{escape(name)}</label><br>'
        f'<textarea id="typed-{number}" readonly>{escape(value)}</textarea></p>'
        for number, (name, value) in enumerate(typed, 1)
    )
    body = (
        '<!doctype html>\n<html lang="it"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p>{kept}</body></html>\n"
    )
    return Response(body, status, mimetype="text/html")


def relative_router_redirect(response: Response) -> Response:
    """The router's own redirect (a missing trailing slash) names the request's
    Host: made relative, it stays on the site whatever Host a client sent.
    (Flask answers it before any error handler, so this runs after.)"""
    if (
        isinstance(request.routing_exception, RequestRedirect)
        and response.status_code in (301, 308)
        and "Location" in response.headers
    ):
        target = urlsplit(response.headers["Location"])
        response.headers["Location"] = target.path + (
            f"?{target.query}" if target.query else ""
        )
    return response


def init_app(app: Flask) -> None:
    """Install the error handlers."""

    app.after_request(relative_router_redirect)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            "Il modulo è scaduto o non è valido. Ricarica la pagina e riprova.",
            typed=typed_fields(app.config["WTF_CSRF_FIELD_NAME"]),
        )

    # A 404 goes first to posts' handler for the code alone (``moved_or_missing``:
    # an old address of the blog moved in may answer it), which renders this
    # page when none does.
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.response is not None:
            # An answer made for this refusal (a rate limit's own 429).
            return error.response
        page = make_response(render_error(error.code))
        # What the refusal says besides its page (a 405's Allow).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                page.headers[name] = value
        return page

    @app.errorhandler(ProgrammingError)
    def older_schema(error: ProgrammingError):
        # PostgreSQL's word for a table or a column the schema lacks (SQLite
        # raises an OperationalError): a database upgrade-db has not reached.
        if not names_an_older_schema(error_reason(error)):
            raise error
        return database_unavailable(error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: SQLAlchemyError):
        # The server down, restarting or too slow to give a connection, a file
        # locked past the busy timeout, read-only or on a full disk: the request
        # may succeed again soon, and whatever was typed comes back then.
        db.session.rollback()
        reason = error_reason(error)
        if names_an_older_schema(reason):
            reason += " (the schema is older than the code: run upgrade-db)"
        reason = database_hint(reason, app.config["SQLALCHEMY_DATABASE_URI"])
        app.logger.error("Database unavailable: %s", reason)
        typed = typed_fields(app.config["WTF_CSRF_FIELD_NAME"])
        g.database_unavailable = True  # what the page shows asks it nothing
        try:
            page = make_response(render_error(503, typed=typed))
        except SQLAlchemyError:
            db.session.rollback()
            title, message = MESSAGES[503]
            page = bare_page(title, message, 503, typed)
        page.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return page

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_error(500)
