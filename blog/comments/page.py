"""The post page with its responses and its form: one renderer for GET and errors."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import (
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from ..accounts.session import current_author
from ..core.memo import markup_store
from ..core.settings import CommentSettings, current_settings
from ..core.text import row_id
from ..core.urls import site_url
from ..extensions import db
from ..models import Comment, Post, comment_values, utcnow
from ..pagecache.cache import CSRF_PLACEHOLDER, STAMP_PLACEHOLDER
from ..posts.queries import PostLink, PostToAnswer, get_neighbours
from ..web.security import kept_private
from . import bp
from .avatars import avatar_key, gravatar_url
from .forms import CommentForm
from .identity import form_stamp, owner_token, read_commenter, token_hash
from .moderation import (
    Refusal,
    closing_time,
    comments_closed,
    parent_values,
    refuse_reply,
)
from .ownership import answered, refuse_change
from .threads import Node, load_page, page_anchors, page_of, walk
from .told import told_under_comment


@dataclass(frozen=True)
class ResponseListContext:
    """What the comment macro needs beyond the comment itself."""

    replies_open: bool
    thread_depth: int
    moderate: bool  # show the author's quick moderation links
    cpage: int | None  # the comment page, None for the first
    anchors: dict[int, str] = field(default_factory=dict)  # see page_anchors
    # The browser's owner hash, for its own comments' "Modifica" / "Elimina":
    # empty on a page rendered for the shared cache, so no link is ever cached.
    owner_hash: str = ""
    now: datetime | None = None
    edit_seconds: int = 0
    # The reply link's address up to the comment's id: built once per page,
    # where a url_for per comment cost a tenth of a page made for one reader.
    reply_prefix: str = ""
    # (comment id, text): what the form told the reader about that comment,
    # shown under it once (``tell_under_comment``); never on a shared page.
    notice: tuple[int, str] | None = None
    # Of this browser's comments on the page, those somebody answered, though
    # the reply be held and so not on this page (``ownership.answered``).
    answered: frozenset[int] = frozenset()

    def can_change(self, node: Node) -> bool:
        """Whether this browser may still edit or delete ``node``'s comment: as
        the edit and delete views decide it."""
        if not self.owner_hash or self.now is None:
            return False
        refusal = refuse_change(
            node.comment,
            self.owner_hash,
            self.now,
            self.edit_seconds,
            replied=node.comment.id in self.answered,
        )
        return refusal is None


def comment_page_number() -> int:
    """The comment page of the address (``/slug/comment-page-N/``), else 1."""
    page = (request.view_args or {}).get("cpage")
    return page if isinstance(page, int) and page > 0 else 1


def _reply_target(post: Post | PostToAnswer, parent_id: int | None) -> Comment | None:
    """The comment a no-JavaScript reply answers, if it may be answered."""
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or refuse_reply(
        parent_values(parent), post.id, current_settings()
    ):
        return None
    return parent


def asked_reply_target(post: Post | PostToAnswer) -> int:
    """The id of the comment ``?replytocom=`` asks to answer on ``post``, or 0
    when it names none that may be answered: every such value shows one page."""
    asked = row_id(request.args.get("replytocom"))
    target = _reply_target(post, asked)
    return target.id if target is not None else 0


def _fresh_form() -> CommentForm:
    form = CommentForm()
    saved = read_commenter(request)
    if saved is not None:
        form.author.data, form.email.data, form.url.data = (
            saved.name,
            saved.email,
            saved.url,
        )
        form.consent.data = True
    return form


def render_post_page(
    post: Post,
    form: CommentForm | None = None,
    status: int = 200,
    message: str | None = None,
    cache_placeholders: bool = False,
    now: datetime | None = None,
) -> tuple[str, int]:
    """Render ``post`` with one page of threads and the form (``form`` re-shown),
    as it is at ``now`` (the clock's by default)."""
    settings = current_settings()
    author = current_author()
    owner_hash = token_hash(owner_token(request))
    page = comment_page_number()
    if form is not None:
        # A form sent back to a reply's writer: on the page of its comment.
        reply_to = _reply_target(post, form.parent_id())
        page = page_of(reply_to, settings, owner_hash) if reply_to else 1
    comments = load_page(post, page, settings, owner_hash)
    if comments is None:
        abort(404)  # before any form: a kept 404 sets no session cookie
    replying = form is None and "replytocom" in request.args
    if form is None:
        form = _fresh_form()
        target = row_id(request.args.get("replytocom"))
        form.comment_parent.data = str(target or 0)
        reply_to = _reply_target(post, form.parent_id())
    if cache_placeholders:
        # The shared cached copy carries markers; each visitor's own token and
        # stamp replace them when it is served (blog.pagecache).
        form.csrf_token.current_token = CSRF_PLACEHOLDER
        form.stamp.data = STAMP_PLACEHOLDER
    elif not form.stamp.data:
        form.stamp.data = form_stamp(post.id, time.time())
    if reply_to is None:
        form.comment_parent.data = "0"
    if author is not None and hasattr(form, "author"):
        form.drop_identity()
    now = now or utcnow()
    closed = comments_closed(post.comment_status, post.published_at, settings, now)
    cpage = comments.page if comments.page > 1 else None
    return render_template(
        "posts/detail.html",
        post=post,
        responses=comments,
        neighbours=get_neighbours(post),
        comment_form=form,
        form_message=message,
        reply_to=reply_to,
        noindex=replying,
        # SITE_URL's address, never the request's Host: the page is cached.
        canonical=site_url("posts.detail", slug=post.slug, cpage=cpage),
        comments_closed=closed,
        signed_in_author=author,
        list_view=ResponseListContext(
            replies_open=not closed and settings.thread_depth > 1,
            thread_depth=settings.thread_depth,
            moderate=author is not None,
            cpage=cpage,
            anchors=page_anchors(comments.threads),
            owner_hash=owner_hash,
            now=now,
            edit_seconds=settings.edit_seconds,
            reply_prefix=url_for("posts.detail", slug=post.slug, cpage=cpage)
            + "?replytocom=",
            notice=None if cache_placeholders else told_under_comment(),
            answered=_own_answered(comments.threads, owner_hash, settings),
        ),
    ), status


def _own_answered(
    threads: list[Node], owner_hash: str, settings: CommentSettings
) -> frozenset[int]:
    # One query, and only for a browser with comments of its own to change.
    if not owner_hash or settings.edit_seconds <= 0:
        return frozenset()
    own = [c.id for c in walk(threads) if c.owner_token_hash == owner_hash]
    return frozenset(answered(own, owner_hash))


def render_shared_post_page(post: Post) -> tuple[str, float | None]:
    """The copy of ``post``'s page the cache shares (placeholders for each
    visitor's token and stamp), and when it will change by itself
    (``page_changes_at``), both as of one moment."""
    now = utcnow()
    html, _ = render_post_page(post, cache_placeholders=True, now=now)
    return html, page_changes_at(post, now)


def page_changes_at(post: Post, now: datetime) -> float | None:
    """When ``post``'s page as rendered at ``now`` will change by itself, as a
    Unix time: the moment its comments close by age and the form leaves it.
    None if it never does: no age closes it, or it was closed at ``now``. The
    same moment as the rendering's: a page rendered open at the closing
    instant must not be kept as if it never changed."""
    closes = closing_time(post.comment_status, post.published_at, current_settings())
    # As ``comments_closed`` reads it: open while now <= the closing moment.
    if closes is None or now > closes:
        return None
    return closes.replace(tzinfo=UTC).timestamp()


def render_refusal(
    post: Post | PostToAnswer | PostLink, form: CommentForm, refusal: Refusal
) -> Response:
    """A small page for a refused comment: the message, the form with all that
    was typed, a link back to the post; no comment list, so a refusal costs
    less than the page it came from."""
    response = current_app.make_response(
        (
            render_template(
                "comments/refused.html",
                post=post,
                comment_form=form,
                form_message=refusal.message,
                # A reply stays one (the guard's pages know no comment).
                reply_to=(
                    _reply_target(post, form.parent_id())
                    if not isinstance(post, PostLink)
                    else None
                ),
                # The closed post's refusal: no form to send again.
                comments_closed=refusal.status_code == 403,
                signed_in_author=current_author(),
                list_view=ResponseListContext(False, 1, False, None),
            ),
            refusal.status_code,
        )
    )
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return kept_private(response)


@bp.app_template_global()
def avatar_url(comment: Comment) -> str | None:
    """Where a comment's avatar is: our identicon, Gravatar, or none at all."""
    mode = current_settings().avatars
    if mode == "none":
        return None
    if comment.status != "approved":
        # Seen only by the browser that wrote it: an icon drawn from the email
        # would let anybody test whether an address wrote a public comment,
        # by sending one of their own with it and comparing the two.
        identity = f"held:{comment.id}"
    elif mode == "gravatar" and comment.author_email:
        return gravatar_url(comment.author_email)
    elif comment.author_email:
        identity = comment.author_email
    elif comment.author_id:
        identity = f"author:{comment.author_id}"
    else:
        identity = f"name:{comment.author_name}"
    key = avatar_key(current_app.secret_key, identity)
    # One url_for per page, not per comment: the key takes the stand-in's place.
    if "avatar_url" not in g:
        g.avatar_url = url_for("comments.avatar", key=_AVATAR_STAND_IN)
    return g.avatar_url.replace(_AVATAR_STAND_IN, key)


_AVATAR_STAND_IN = "0" * 32

# A response's own markup is kept per worker (``blog.core.memo.markup_store``):
# a page made for one reader (their held comment, the author's links) rendered
# 50 responses afresh, about a quarter of its time.
_STORE = "comments.response_markup"


@bp.app_template_global()
def response_head_markup(node: Node, view: ResponseListContext) -> Markup:
    """``response_head`` of ``node`` (``_macros.html``), kept under all it reads."""
    c = node.comment
    # The link shows where the form's POST would take the reply.
    settings = current_settings()
    shows_reply = view.replies_open and (
        refuse_reply(parent_values(c), c.post_id, settings) is None
    )
    can_change = view.can_change(node)
    key = (
        comment_values(c),
        node.depth,
        view.anchors[c.id],
        shows_reply,
        view.reply_prefix if shows_reply else "",
        can_change,
        view.moderate,
        settings.avatars,
        # Every address on it starts with the page's root (url_for).
        request.script_root,
    )
    kept = markup_store(_STORE)
    markup = kept.get(key)
    if markup is None:
        macros = current_app.jinja_env.get_template("_macros.html").module
        markup = str(macros.response_head(node, view, shows_reply, can_change))
        kept.keep(key, markup)
    return Markup(markup)
