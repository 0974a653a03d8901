"""Production safety: the secret key check, security headers, proxy handling."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import click
from flask import Flask, Response, abort, current_app, make_response, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import SECRET_KEY as DEFAULT_SECRET_KEY
from .errors import render_error, typed_fields

F = TypeVar("F", bound=Callable)

# No inline script or style anywhere: templates link /static files only.
# Images: also from any HTTPS site, as WordPress shows them: a post's images
# may stay where the old blog served them, and Gravatar serves avatars for the
# author who chooses them. Only the author's posts hold images (a comment's
# tags take none); everything else stays on this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class InsecureConfigError(click.ClickException):
    """The app refuses to start with settings unsafe outside development.

    A click error: ``flask --app blog …`` says why in one line, no traceback
    (gunicorn and tests see an ordinary exception with the same message).
    """


def secret_key_problem(key: object) -> str | None:
    """Why ``key`` is unfit for production, or None when it is fine."""
    if not key:
        return "no secret key is set"
    if key == DEFAULT_SECRET_KEY:
        return "no secret key is set (only the insecure development default)"
    if isinstance(key, str | bytes) and len(key) < 16:
        return "the secret key is shorter than 16 characters"
    return None


def signing_keys() -> list[str | bytes]:
    """The keys signed values are read with, oldest first, the current key last
    (itsdangerous signs with the last): a link mailed or a cookie set before a
    key change still opens while the old key is in ``SECRET_KEY_FALLBACKS``."""
    older = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
    return [*older, current_app.secret_key]


def configure_secret_key(app: Flask) -> None:
    """Use instance/secret_key when no key is configured; refuse to run without one.

    Debug and testing runs may keep the default key.
    """
    key_file = app.config.get("SECRET_KEY_FILE") or os.path.join(
        app.instance_path, "secret_key"
    )
    # Only in place of no key or the default: a key the operator set, however
    # weak, is refused below rather than silently replaced.
    configured = app.config.get("SECRET_KEY")
    if configured in (None, "", DEFAULT_SECRET_KEY) and os.path.exists(key_file):
        try:
            with open(key_file, encoding="utf-8") as handle:
                app.config["SECRET_KEY"] = handle.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise InsecureConfigError(
                f"Refusing to start: the secret key file {key_file} cannot be "
                f"read ({reason}): run the blog as the user that owns it, or "
                "let that user read it."
            ) from error
    problem = secret_key_problem(app.config.get("SECRET_KEY"))
    if problem and not (app.debug or app.testing):
        raise InsecureConfigError(
            f"Refusing to start: {problem}. Set BLOG_SECRET_KEY (or SECRET_KEY in "
            f"instance/config.py), or write a random key to {key_file}, e.g. "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    app.config["SECRET_KEY_FALLBACKS"] = _older_keys(app)


def _older_keys(app: Flask) -> list[str | bytes]:
    # One old key as a plain string (BLOG_SECRET_KEY_FALLBACKS=old-key, or
    # "a,b") is a list of keys, never a list of its characters: Flask and
    # itsdangerous would take each letter for a key anybody can sign with.
    older = app.config.get("SECRET_KEY_FALLBACKS") or []
    if isinstance(older, int | float):  # BLOG_* is read as JSON: digits alone
        older = str(older)
    if isinstance(older, str | bytes):
        older = [older] if isinstance(older, bytes) else older.split(",")
    older = [key if isinstance(key, bytes) else str(key).strip() for key in older]
    for key in older:
        problem = secret_key_problem(key)
        if problem and not (app.debug or app.testing):
            raise InsecureConfigError(
                f"Refusing to start: in SECRET_KEY_FALLBACKS, {problem}."
            )
    return [key for key in older if key]


def add_security_headers(response: Response) -> Response:
    """Set the security headers a view has not set itself."""
    # Werkzeug's setdefault raises and catches a KeyError for each header it
    # does not find (most of them, most of the time): one pass instead.
    present = {name.lower() for name in response.headers.keys()}
    response.headers.extend(
        (name, value)
        for name, value in SECURITY_HEADERS.items()
        if name.lower() not in present
    )
    return response


def kept_private(response: Response) -> Response:
    """``response``, which shows one visitor's own state, kept by no cache."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def handles_nul_itself(view: F) -> F:
    """Mark a view that drops or refuses a NUL in its own body (a form whose
    every field does, an XML-RPC call, whose parser refuses one): its body is
    left to it, so a reader who pasted one gets the form back with their text,
    and a body sent form-encoded (``curl -d``) reaches it unread."""
    view.handles_nul_itself = True  # type: ignore[attr-defined]
    return view


def takes_bodies_up_to(size: int) -> Callable[[F], F]:
    """Mark a view whose form may be larger than MAX_CONTENT_LENGTH (the
    author's post editor: a long post, an imported one saved again)."""

    def mark(view: F) -> F:
        view.max_content_length = size  # type: ignore[attr-defined]
        return view

    return mark


def allow_marked_bodies() -> None:
    """Give a view marked by ``takes_bodies_up_to`` its own limit, before
    anything reads the body."""
    view = current_app.view_functions.get(request.endpoint or "")
    size = getattr(view, "max_content_length", None)
    if size is not None:
        request.max_content_length = size


def _handles_nul_itself(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "handles_nul_itself", False)


def too_many_fields(form_body: bytes, parts: int) -> bool:
    """Whether a urlencoded ``form_body`` holds ``parts`` fields or more:
    Werkzeug bounds a multipart body's parts, not these, and a body of a
    million empty fields took a second of CPU to parse."""
    return form_body.count(b"&") >= parts


def _form_fields() -> list[tuple[str, str]]:
    """The form's fields, or 413 for more than MAX_FORM_PARTS and 400 for a
    body that cannot be read."""
    try:
        if request.mimetype == "application/x-www-form-urlencoded":
            parts = int(current_app.config["MAX_FORM_PARTS"])
            if too_many_fields(request.get_data(cache=True), parts):
                abort(413)
        return list(request.form.items(multi=True))
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 (a broken chunked body, a cut connection)
        abort(400)


def refuse_nul_bytes() -> None:
    """400 for a NUL anywhere in the path, query or form: no page needs one, and
    PostgreSQL refuses them in text (which would otherwise surface as a 500).
    So too for a query of raw bytes that are not UTF-8, which Werkzeug cannot
    read (a server that passes them on unquoted)."""
    try:
        fields = list(request.args.items(multi=True))
    except UnicodeDecodeError:
        abort(400)
    form: list[tuple[str, str]] = []
    if (
        request.method == "POST"
        # Nothing answers an unrouted POST (404, 405): its body is not read.
        and request.endpoint is not None
        and request.mimetype
        in ("application/x-www-form-urlencoded", "multipart/form-data")
        # Such a view may read the body as it comes (an XML-RPC call).
        and not _handles_nul_itself(request.endpoint)
    ):
        form = _form_fields()
        fields += form
    # The client's address too: behind BLOG_PROXY_FIX it is a request header's.
    texts = [request.path, request.remote_addr or ""]
    texts += [text for field in fields for text in field]
    if any("\x00" in text for text in texts):
        if any("\x00" in value for _, value in form):
            abort(_typed_text_back())
        abort(400)


NUL_MESSAGE = (
    "Il testo contiene un carattere non valido (NUL), forse incollato da un "
    "altro programma. Qui sotto c'è quello che avevi scritto, senza: copialo, "
    "ricarica la pagina e invialo di nuovo."
)


def _typed_text_back() -> Response:
    # A form sent with a NUL (the author's post or reply, most likely pasted)
    # comes back as text to copy: refused, but nothing typed is lost.
    typed = typed_fields(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    cleaned = [(label, value.replace("\x00", "")) for label, value in typed]
    page, status = render_error(400, NUL_MESSAGE, typed=cleaned)
    return make_response(page, status)


def init_app(app: Flask) -> None:
    """Secret key check, HTTPS cookies, headers on every response, ProxyFix."""
    configure_secret_key(app)
    if str(app.config.get("SITE_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    app.before_request(allow_marked_bodies)
    app.before_request(refuse_nul_bytes)
    app.after_request(add_security_headers)
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies > 0:
        # Trust X-Forwarded-For/-Proto/-Host from exactly this many proxies, so
        # remote_addr (rate limits) and https detection see the real client.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
