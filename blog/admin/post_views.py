"""The post editor: list, create, edit, preview, publish."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.session import author_required, current_author
from ..core.localtime import local_time
from ..core.sanitize.autop import clean_written_post
from ..core.sanitize.whitelist import POST_TAGS, allowed_tags_note
from ..core.text import positive_int
from ..core.urls import post_url
from ..extensions import db
from ..mentions.send import outbound_pings
from ..models import Post
from ..web.security import takes_bodies_up_to
from . import bp
from .forms import PostForm
from .posts import (
    PostData,
    PostError,
    announce_post,
    publish,
    revision_of,
    save_post,
    stored_date,
)

PER_PAGE = 30
SAVED_MEANWHILE = "Un altro salvataggio ha appena usato lo stesso slug: salva di nuovo."


def _own_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id) or abort(404)
    if post.author_id != current_author().id:
        abort(403)  # authors edit their own posts only
    return post


def _published_message(post: Post) -> str:
    return "Pagina pubblicata." if post.is_page else "Articolo pubblicato."


@bp.get("/posts")
@author_required
def posts() -> str:
    """The author's posts and pages, newest first, to open in the editor."""
    page = request.args.get("page", "1")
    pagination = db.paginate(
        select(Post)
        .options(selectinload(Post.categories))
        .order_by(Post.created_at.desc(), Post.id.desc()),
        page=positive_int(page, 100_000) or 1,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("admin/posts.html", pagination=pagination)


# A post is longer than a comment may be (MAX_CONTENT_LENGTH): up to what the
# shipped nginx settings take (client_max_body_size 1m).
POST_FORM_MAX_BYTES = 1024 * 1024


@bp.route("/posts/new", methods=["GET", "POST"])
@takes_bodies_up_to(POST_FORM_MAX_BYTES)
@author_required
def post_new() -> ResponseReturnValue:
    """The editor of a new post or page: save a draft, preview, or publish."""
    return _editor(None, PostForm())


@bp.route("/posts/<id:post_id>", methods=["GET", "POST"])
@takes_bodies_up_to(POST_FORM_MAX_BYTES)
@author_required
def post_edit(post_id: int) -> ResponseReturnValue:
    """The editor of one of the author's own posts."""
    post = _own_post(post_id)
    form = PostForm(obj=post)
    if not form.is_submitted():
        form.revision.data = revision_of(post)
        form.category_names.data = ", ".join(c.name for c in post.categories)
        if post.published_at is not None:  # shown in the blog's time
            form.published_at.data = local_time(post.published_at)
    return _editor(post, form)


def _editor(post: Post | None, form: PostForm):
    status, preview = 200, None
    if form.validate_on_submit():
        data = PostData(
            title=form.title.data,
            slug=form.slug.data or "",
            body=form.body.data or "",
            excerpt=form.excerpt.data or "",
            categories=form.category_names.data or "",
            published_at=stored_date(post, form.published_at.data),
            status="published" if form.publish.data else form.status.data,
            kind=form.kind.data,
            menu_order=form.menu_order.data or 0,
            comment_status=form.comment_status.data,
            ping_status=form.ping_status.data,
            revision=form.revision.data if post is not None else None,
        )
        if form.preview.data:
            preview = clean_written_post(data.body)
        else:
            # Where it was published until now: the pings it left follow it.
            earlier = post_url(post) if post is not None and post.is_published else None
            try:
                with db.session.no_autoflush:
                    saved = save_post(post, data, current_author())
            except PostError as error:
                getattr(form, error.field).errors = [str(error)]
                status = error.status
                if error.status == 409:
                    # Read before this save: a second "Salva" keeps this text.
                    # Never after another refusal, whose form the other save
                    # has not been shown to.
                    form.revision.data = revision_of(post)
            else:
                taken = _commit_or_taken_field()
                if taken is None:
                    announce_post(saved, earlier)
                    flash(
                        _published_message(saved)
                        if saved.is_published
                        else "Bozza salvata."
                    )
                    return redirect(url_for("admin.post_edit", post_id=saved.id))
                getattr(form, taken).errors = [SAVED_MEANWHILE]
                status = 409
    elif form.is_submitted():
        status = 400
    return render_template(
        "admin/post_form.html",
        form=form,
        post=post,
        preview=preview,
        tags_note=allowed_tags_note(POST_TAGS),
        pings=outbound_pings(post.id) if post else [],
    ), status


# The unique names a save may find taken at its commit, as SQLite and
# PostgreSQL name their constraints (no slug holds "." or "_"), and the field.
_TAKEN_NAMES = {
    "category.slug": "category_names",
    "uq_category_slug": "category_names",
    "post.slug": "slug",
    "uq_post_slug": "slug",
}


def _commit_or_taken_field() -> str | None:
    """Commit the save; or, when another save took the same slug or new
    category between this one's check and its commit, roll back and name the
    field the form comes back with. Any other failure stays an error."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        message = str(error.orig)
        for name, field in _TAKEN_NAMES.items():
            if name in message:
                return field
        raise
    return None


@bp.get("/posts/<id:post_id>/preview")
@author_required
def post_preview(post_id: int) -> str:
    """A saved post as its readers would see it, before it is published."""
    return render_template("admin/post_preview.html", post=_own_post(post_id))


@bp.post("/posts/<id:post_id>/publish")
@author_required
def post_publish(post_id: int) -> ResponseReturnValue:
    """Publish a draft at once, from the list of posts."""
    post = _own_post(post_id)
    if not post.is_published:
        try:
            publish(post)
        except PostError as error:
            flash(str(error))  # in the editor, where the date can be changed
            return redirect(url_for("admin.post_edit", post_id=post.id))
        db.session.commit()
        announce_post(post)
        flash(_published_message(post))
    return redirect(url_for("admin.posts"))
