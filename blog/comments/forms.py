"""The reader's comment form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.fields import EmailField, URLField


class CommentForm(FlaskForm):
    author = StringField("Nome")
    email = EmailField("Email")
    url = URLField("Sito web")
    comment = TextAreaField("Commento")
    submit = SubmitField("Invia commento")
