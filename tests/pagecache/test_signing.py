"""Values signed by ``blog.signing`` are the ones itsdangerous makes and reads."""

from __future__ import annotations

import hashlib
import time

import pytest
from flask import Flask
from itsdangerous import (
    BadSignature,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from blog.pagecache.signing import prederived_signer, sign_json


def _same_second(make):
    """Call ``make`` twice within one clock second (timestamps are in seconds)."""
    while True:
        start = int(time.time())
        values = make()
        if int(time.time()) == start:
            return values


@pytest.mark.parametrize(
    "serializer",
    [
        URLSafeTimedSerializer("secret", salt="wtf-csrf-token"),
        URLSafeSerializer("secret", salt="blog.comments.stamp"),
        URLSafeTimedSerializer(
            "secret",
            salt="cookie-session",
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        ),
    ],
    ids=["csrf-token", "form-stamp", "session-cookie"],
)
def test_signatures_are_byte_for_byte_the_librarys(serializer):
    signer = prederived_signer(serializer)
    value = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
    ours, theirs = _same_second(
        lambda: (sign_json(signer, value), serializer.dumps(value))
    )
    assert ours == theirs
    assert serializer.loads(ours) == value


def test_the_newest_key_signs_and_older_ones_are_not_used():
    serializer = URLSafeTimedSerializer(["old-secret", "new-secret"], salt="s")
    token = sign_json(prederived_signer(serializer), "x")
    assert URLSafeTimedSerializer("new-secret", salt="s").loads(token) == "x"
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer("old-secret", salt="s").loads(token)


def test_a_session_signed_here_is_read_by_flask():
    app = Flask(__name__)
    app.secret_key = "a-secret-key-for-this-test"
    serializer = app.session_interface.get_signing_serializer(app)
    value = sign_json(prederived_signer(serializer), {"csrf_token": "abc123"})
    assert serializer.loads(value) == {"csrf_token": "abc123"}
    with pytest.raises(BadSignature):
        serializer.loads(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1])


def test_text_outside_ascii_survives():
    serializer = URLSafeSerializer("secret", salt="s")
    value = sign_json(prederived_signer(serializer), ["perché", 1])
    assert serializer.loads(value) == ["perché", 1]
