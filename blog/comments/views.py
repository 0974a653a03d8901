"""Comment views: the form's submission, comment permalinks, avatars."""

from __future__ import annotations

import time

from flask import Response, abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..accounts.session import current_author
from ..core.settings import current_settings
from ..core.text import row_id
from ..extensions import csrf, db
from ..models import Comment, Post
from ..posts.queries import PostToAnswer, get_post_to_answer, get_published_post
from ..web.postguard import limit_posts
from ..web.security import handles_nul_itself
from . import bp
from .avatars import KEY_PATTERN, identicon_svg
from .forms import CSRF_MESSAGE, NO_COOKIE_MESSAGE, CommentForm
from .identity import (
    Commenter,
    give_owner_token,
    new_owner_token,
    owner_token,
    remember_commenter,
    seconds_since_stamp,
    token_hash,
)
from .page import render_post_page, render_refusal
from .refusals import refused_post_page
from .submission import Submission, refuse_closed, submit_comment
from .subscriptions import NOTICES
from .threads import anchor_on_page, comment_by_anchor, is_shown, page_of
from .told import tell_under_comment

FORM_MESSAGE = "Il commento non è stato inviato: correggi i campi segnalati."
REPEATED_MESSAGE = (
    "Questo commento era già arrivato: eccolo, non l'abbiamo salvato due volte."
)


# The form checks its own CSRF token (FlaskForm), so that a stale token sends the
# reader back to the form with their text instead of to an error page.
@csrf.exempt
@bp.post("/<slug>/comment")
@limit_posts(refused_post_page)
@handles_nul_itself
def submit(slug: str) -> ResponseReturnValue:
    """A reader's comment from the post's form: stored, or the form back with why."""
    post = get_post_to_answer(slug) or abort(404)
    author = current_author()
    form = CommentForm()
    if author is not None:
        form.drop_identity()
    closed = refuse_closed(post, current_settings())
    if closed:
        return render_refusal(post, form, closed)
    if not form.validate():
        if form.csrf_token.errors:
            cookie = current_app.config["SESSION_COOKIE_NAME"]
            message = CSRF_MESSAGE if cookie in request.cookies else NO_COOKIE_MESSAGE
            form.csrf_token.errors = [message]
            return render_post_page(_whole(post), form, 400, message)
        return render_post_page(_whole(post), form, 422, FORM_MESSAGE)
    token = owner_token(request) or new_owner_token()
    submission = Submission(
        name=author.display_name if author else form.author.data,
        email=author.email if author else form.email.data,
        url=author.url if author else (form.url.data or ""),
        content=form.comment.data,
        parent_id=form.parent_id(),
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string,
        author_id=author.id if author else None,
        owner_token=token,
        honeypot=form.website.data or "",
        seconds_to_submit=seconds_since_stamp(form.stamp.data, post.id, time.time()),
        notify=form.notify(),
    )
    outcome = submit_comment(post, submission, current_settings())
    if outcome.refusal is not None:
        return render_refusal(post, form, outcome.refusal)
    if outcome.repeated:
        tell_under_comment(outcome.comment_id, REPEATED_MESSAGE)
    elif outcome.subscription:
        tell_under_comment(outcome.comment_id, NOTICES[outcome.subscription])
    # No "Redirecting..." page in the body: a browser never shows it, and an
    # empty body leaves the server one write to the socket instead of two.
    location = url_for("comments.permalink", comment_id=outcome.comment_id)
    response = Response(status=302, headers={"Location": location})
    give_owner_token(response, request, token)
    if author is None:
        saved = Commenter(submission.name, submission.email, submission.url)
        remember_commenter(response, request, saved if form.consent.data else None)
    return response


def _whole(post: PostToAnswer) -> Post:
    # The form sent back shows the whole page: the post with its author and
    # categories, read only then.
    return get_published_post(post.slug) or abort(404)


@bp.get("/<slug>/comment")
def form_address(slug: str) -> ResponseReturnValue:
    """The form's own address asked for again (a reload after an error): the
    post's form, where the reader was."""
    return redirect(url_for("posts.detail", slug=slug, _anchor="respond"))


@bp.get("/comment/<id:comment_id>/")
def permalink(comment_id: int) -> ResponseReturnValue:
    """Send a ``#comment-N`` link to the comment page that shows it; with
    ``?post=ID``, N is the anchor an old link names on that post's page."""
    post_id = row_id(request.args.get("post"))
    if post_id is not None:
        comment = comment_by_anchor(post_id, comment_id)
    else:
        comment = db.session.get(Comment, comment_id)
    comment = comment or abort(404)
    owner_hash = token_hash(owner_token(request))
    post = comment.post
    if not (is_shown(comment, owner_hash) and post.is_published):
        abort(404)
    settings = current_settings()
    page = page_of(comment, settings, owner_hash)
    return redirect(
        url_for(
            "posts.detail",
            slug=post.slug,
            cpage=page if page > 1 else None,
            _anchor=anchor_on_page(comment, page, settings, owner_hash),
        )
    )


@bp.get("/avatar/<key>.svg")
def avatar(key: str) -> Response:
    """The identicon named by a keyed hash (see ``avatars``)."""
    if not KEY_PATTERN.fullmatch(key):
        abort(404)
    response = Response(identicon_svg(key), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
