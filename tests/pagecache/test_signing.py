"""Values signed by ``blog.signing`` are the ones itsdangerous makes and reads."""

from __future__ import annotations

import hashlib
import time

import pytest
from flask import Flask, request
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import (
    BadSignature,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from blog.pagecache.signing import (
    PrederivedSessionInterface,
    prederived_serializer,
    prederived_signer,
    sign_json,
)


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


@pytest.mark.parametrize(
    "serializer",
    [
        URLSafeSerializer(["old-secret", "new-secret"], salt="blog.comments.owner"),
        URLSafeTimedSerializer(
            ["old-secret", "new-secret"],
            salt="cookie-session",
            serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        ),
    ],
    ids=["signed-value", "session-cookie"],
)
def test_a_prederived_serializer_writes_and_reads_what_the_library_does(serializer):
    ours = prederived_serializer(serializer)
    value = {"csrf_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}
    written, expected = _same_second(
        lambda: (ours.dumps(value), serializer.dumps(value))
    )
    assert written == expected
    assert ours.loads(expected) == value
    # What the older key signed is still read; a value altered is not.
    older = type(serializer)(
        "old-secret",
        salt=serializer.salt,
        serializer=serializer.serializer,
        signer_kwargs=serializer.signer_kwargs,
    )
    assert ours.loads(older.dumps(value)) == value
    # A letter changed inside the signature (the last one may carry bits that
    # base64 decoding drops).
    middle = written.rindex(".") + 5
    altered = "A" if written[middle] != "A" else "B"
    with pytest.raises(BadSignature):
        ours.loads(written[:middle] + altered + written[middle + 1 :])


def test_the_session_serializer_follows_a_key_change():
    app = Flask(__name__)
    app.session_interface = PrederivedSessionInterface()
    app.secret_key = "the-first-key-of-this-test"
    first = app.session_interface.get_signing_serializer(app)
    assert app.session_interface.get_signing_serializer(app) is first
    cookie = first.dumps({"csrf_token": "abc"})
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "the-second-key-of-this-test"
    second = app.session_interface.get_signing_serializer(app)
    assert second is not first
    assert second.loads(cookie) == {"csrf_token": "abc"}
    flask_own = SecureCookieSessionInterface().get_signing_serializer(app)
    assert flask_own.loads(second.dumps({"n": 1})) == {"n": 1}
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        assert app.session_interface.open_session(app, request) == {"csrf_token": "abc"}
