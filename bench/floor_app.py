"""The floor of the stack: the least a Flask app on the blog's packages does to
take a comment (``bench/vs_isso.py`` measures it beside the blog and Isso).

Flask; a Flask-WTF form with its CSRF token in the session cookie and the
blog's validators (required name and email, lengths, email syntax); the
blog's own cleaner (bleach) on the text; one INSERT and its commit through
SQLAlchemy on SQLite tuned as the blog's (WAL, synchronous NORMAL); a redirect.
No moderation rules, no duplicate or flood check, no blocklist, no notice for
the author, no page cache to keep exact: whatever the blog costs beyond this
app is the blog's own.
"""

from __future__ import annotations

import os

from flask import Flask, redirect
from flask_wtf import FlaskForm
from sqlalchemy import create_engine, event, text
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length

from blog.core.sanitize.comment import clean_comment

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["BLOG_SECRET_KEY"]
engine = create_engine(os.environ["BENCH_FLOOR_DATABASE_URL"])
INSERT = text(
    "INSERT INTO comment (author, email, html, status) "
    "VALUES (:author, :email, :html, 'pending')"
)


@event.listens_for(engine, "connect")
def tune(dbapi_connection, record) -> None:  # noqa: ARG001
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


with engine.begin() as connection:
    connection.execute(
        text(
            "CREATE TABLE IF NOT EXISTS comment (id INTEGER PRIMARY KEY, "
            "author TEXT, email TEXT, html TEXT, status TEXT)"
        )
    )
engine.dispose()  # gunicorn forks after this: each worker opens its own


class CommentForm(FlaskForm):
    author = StringField(validators=[InputRequired(), Length(max=245)])
    email = EmailField(validators=[InputRequired(), Length(max=100), Email()])
    comment = TextAreaField(validators=[InputRequired(), Length(max=65525)])


@app.get("/<slug>/")
def page(slug: str):
    """The form's CSRF token (and the session cookie that holds it)."""
    token = CommentForm().csrf_token.current_token
    field = f'<input name="csrf_token" value="{token}">'
    return f'<form method="post" action="comment">{field}</form>'


@app.post("/<slug>/comment")
def submit(slug: str):
    """Validate, clean, store, redirect."""
    form = CommentForm()
    if not form.validate():
        return "Modulo non valido.", 422
    html = clean_comment(form.comment.data)  # the blog's own bleach cleaner
    with engine.begin() as connection:
        connection.execute(
            INSERT, {"author": form.author.data, "email": form.email.data, "html": html}
        )
    return redirect(f"/{slug}/#commenti")
