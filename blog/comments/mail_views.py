"""The reader's pages behind the links of our mails: confirm, list, unsubscribe.

Mail scanners open links, so a GET only shows a page with a button; the button
POSTs. The one exception is RFC 8058's one-click POST, made by the mail client
itself: it carries no CSRF token, so the signed token in the URL is the proof.
"""

from __future__ import annotations

from flask import Response, make_response, render_template, request
from flask.typing import ResponseReturnValue

from ..core.text import row_id
from ..extensions import csrf, db
from ..web.errors import render_error
from ..web.postguard import limit_posts
from ..web.refusalpages import small_refusal
from ..web.security import kept_private
from . import bp
from .identity import owner_token, token_hash
from .mailtokens import (
    TokenError,
    list_link_of_unsubscribe,
    manage_token,
    read_confirm_token,
    read_manage_token,
    read_unsubscribe_token,
)
from .subscriptions import (
    awaits_confirmation,
    confirm,
    end_subscriptions,
    is_confirmed,
    subscribed_to_post,
    subscriptions_of,
    what_is_asked,
)


def _refused(error: TokenError):
    return render_error(error.status, str(error))


def _private(template: str, **context: object) -> Response:
    # The pages name an address and their URL is its key: kept by no cache.
    response = kept_private(make_response(render_template(template, **context)))
    # No other site learns the URL; our own form POSTs carry it, as CSRF
    # protection over HTTPS asks of every POST (Flask-WTF refuses a POST
    # without a Referer there).
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.route("/email/conferma/<token>", methods=["GET", "POST"])
@limit_posts(small_refusal())
def confirm_address(token: str) -> ResponseReturnValue:
    """A confirmation mail's link: a page whose button starts the subscription."""
    try:
        asked = read_confirm_token(token)
    except TokenError as error:
        return _refused(error)
    if request.method == "POST" and awaits_confirmation(asked):
        confirm(asked, token_hash(owner_token(request)))
        db.session.commit()
    waiting = awaits_confirmation(asked)
    return _private(
        "comments/confirm.html",
        token=token,
        email=asked.email,
        what=what_is_asked(asked),
        # A link followed after its subscription was cancelled confirms nothing.
        state="waiting" if waiting else "done" if is_confirmed(asked) else "gone",
        manage=manage_token(asked.email),
    )


@bp.route("/email/iscrizioni/<token>", methods=["GET", "POST"])
@limit_posts(small_refusal())
def subscriptions(token: str) -> ResponseReturnValue:
    """The reader's subscriptions by mail, each one to cancel, or all of them."""
    try:
        email = read_manage_token(token)
    except TokenError as error:
        return _refused(error)
    message = ""
    if request.method == "POST":
        choice = request.form.get("subscription", "")
        if choice == "all":
            ended = end_subscriptions(email)
        elif (number := row_id(choice)) is not None:
            ended = end_subscriptions(email, subscription_id=number)
        else:
            ended = 0
        db.session.commit()
        message = {
            0: "Non c'era nessuna iscrizione attiva da annullare.",
            1: "Iscrizione annullata.",
        }.get(ended, f"Iscrizioni annullate: {ended}.")
    return _private(
        "comments/subscriptions.html",
        token=token,
        email=email,
        items=subscriptions_of(email),
        message=message,
    )


# RFC 8058: the client POSTs "List-Unsubscribe=One-Click" with no cookie and no
# CSRF token; the signed token names the address and the post.
@csrf.exempt
@bp.route("/email/disiscrivi/<token>", methods=["GET", "POST"])
@limit_posts(small_refusal())
def unsubscribe(token: str) -> ResponseReturnValue:
    """A mail's unsubscribe link, and RFC 8058's one-click POST from the client."""
    try:
        email, post_id = read_unsubscribe_token(token)
    except TokenError as error:
        return _refused(error)
    if request.method == "POST":
        ended = end_subscriptions(email, post_id=post_id)
        db.session.commit()
        # A second press (or the mail client's one-click after the reader's)
        # ended nothing: the page says so rather than "annullata" again.
        state = "ended" if ended else "none"
    else:
        state = "asking" if subscribed_to_post(email, post_id) else "none"
    return _private(
        "comments/unsubscribe.html",
        token=token,
        state=state,
        # Dated as the mail: a new link to the list would outlive the mail's own.
        manage=list_link_of_unsubscribe(email, token),
    )
