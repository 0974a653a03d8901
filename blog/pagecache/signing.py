"""Signed values made the way itsdangerous makes them, at one HMAC each.

itsdangerous derives the signing key again (one more hash or HMAC) and builds a
new signer for every ``dumps``, computes each HMAC through the pure-Python path
of ``hmac.new`` (its digest is a Python function, for FIPS builds), and tries
zlib on every payload. The cached post page signs two or three values per
request, so the middleware signs with a signer whose key was derived once and
whose HMAC is OpenSSL's one-shot ``hmac.digest``, on payloads that are short
random strings (never worth compressing). The results are ordinary itsdangerous
values: the library's own ``loads`` (Flask's session, Flask-WTF's token check)
reads them.
"""

from __future__ import annotations

import hmac
import json

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Serializer, Signer, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import SigningAlgorithm


class OneShotHMAC(SigningAlgorithm):
    """HMAC with a hashlib digest named once, computed by ``hmac.digest``."""

    def __init__(self, digest_name: str) -> None:
        self.digest_name = digest_name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        """The HMAC of ``value`` under ``key``, in one call."""
        return hmac.digest(key, value, self.digest_name)


def prederived_signer(serializer: Serializer) -> Signer:
    """``serializer``'s signer for its newest key, with that key derived once.

    Signatures are the same bytes the serializer's own signer makes: the derived
    key is handed over as the key, with key derivation "none", and the same
    digest computes the HMAC.
    """
    signer = serializer.make_signer(serializer.salt)
    return type(signer)(
        signer.derive_key(),
        salt=signer.salt,
        sep=signer.sep,
        key_derivation="none",
        digest_method=signer.digest_method,
        algorithm=OneShotHMAC(signer.digest_method().name),
    )


def prederived_serializer(serializer: Serializer) -> Serializer:
    """``serializer`` with each of its keys derived once: it reads and writes
    the same values (signed with the newest key, read with any), each at one
    ``hmac.digest``. One with fallback signers (none of the blog's) is kept."""
    if serializer.fallback_signers:
        return serializer
    signer = serializer.make_signer(serializer.salt)
    return type(serializer)(
        [signer.derive_key(key) for key in serializer.secret_keys],
        salt=serializer.salt,
        serializer=serializer.serializer,
        serializer_kwargs=serializer.serializer_kwargs,
        signer=serializer.signer,
        signer_kwargs={
            **serializer.signer_kwargs,
            "key_derivation": "none",
            "algorithm": OneShotHMAC(signer.digest_method().name),
        },
    )


class PrederivedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, whose serializer is built once for the
    app's keys instead of on every request (its keys derived each time)."""

    def __init__(self) -> None:
        self._built: tuple[tuple, URLSafeTimedSerializer | None] = ((), None)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer for the current keys, kept until they change."""
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built_for, serializer = self._built
        if built_for != keys:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                serializer = prederived_serializer(serializer)
            self._built = (keys, serializer)
        return serializer


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))  # as itsdangerous writes it


def sign_json(signer: Signer, value: object) -> str:
    """``value`` as compact JSON, base64 encoded and signed, uncompressed."""
    payload = _COMPACT_JSON.encode(value)
    return signer.sign(base64_encode(payload.encode())).decode("ascii")


def signed_value_serializer(
    secret_key: str | bytes | list[str | bytes], purpose: str
) -> URLSafeSerializer:
    """The serializer of the comment form's signed values ("stamp", "author",
    "owner"): the form's views and the cached-page middleware share it."""
    return URLSafeSerializer(secret_key, salt=f"blog.comments.{purpose}")
