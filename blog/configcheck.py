"""The start-up checks of the configuration, in the order the app runs them.

The factory (``blog/__init__.py``) reads ``instance/config.py`` (a mistake in
it is said in one line) and the BLOG_* environment, then: warns of BLOG_*
variables no setting has (``warn_of_unknown_settings``); makes the SQLite
file's folder or says why it cannot; refuses values of no use
(``check_config``: the server's own, then the moderation settings;
``check_outbound_config``: the ``OUTBOUND_*`` keys). Next, three ``init_app``
check what they build: ``web/ratelimit.py`` Flask-Limiter's storage (and that
it is on), ``web/postguard.py`` the POST budget, ``web/security.py`` the
secret key and its file; ``database`` names a URL it cannot use. Last,
``wsgi.py`` warns of a production server on the local ``SITE_URL``
(``warn_of_a_local_site_url``). ``gunicorn.conf.py`` checks its own counts
before any of this.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from .config import SITE_URL as LOCAL_SITE_URL
from .core.localtime import DEFAULT_TIMEZONE
from .core.settings import SETTINGS, ConfigValueError, coerce_value, read_flag
from .net.client import limits_from_config

# Settings the extensions read without a default in the config; and the test
# suite's own (BLOG_TEST_POSTGRESQL...), which the app never reads. Not
# SESSION_: Flask defines each of its settings, so a misspelt one is unknown.
_EXTENSION_PREFIXES = ("RATELIMIT_", "SQLALCHEMY_", "WTF_", "TEST_")


def warn_of_unknown_settings(app: Flask, known: set[str]) -> None:
    """Log a warning for each BLOG_* variable that names no setting."""
    # A misspelt BLOG_MAIL_SEVRER would be read by nobody, and the operator
    # would wonder why no mail goes out.
    for name in sorted(os.environ):
        key = name.removeprefix("BLOG_")
        if (
            name.startswith("BLOG_")
            and key not in known
            and "__" not in key
            and not key.startswith(_EXTENSION_PREFIXES)
        ):
            app.logger.warning(
                "%s is not a setting this blog reads (misspelt?): it is ignored.",
                name,
            )


# The server's own whole numbers (key: lowest, highest); None, where a key
# allows it, lets the blog work the value out.
_SERVER_NUMBERS = {
    "POSTS_PER_PAGE": (1, 1000),
    "FEED_ITEMS": (1, 1000),
    "PAGE_CACHE_SIZE": (1, 1_000_000),
    "SIDE_PAGE_CACHE_SIZE": (1, 1_000_000),
    "MISSING_PAGE_CACHE_SIZE": (1, 1_000_000),
    "PAGE_CACHE_MB": (1, 100_000),
    "SIDE_PAGE_CACHE_MB": (1, 100_000),
    "MISSING_PAGE_CACHE_MB": (1, 100_000),
    "PING_LIMIT_PER_IP": (1, 1_000_000),
    "PING_LIMIT_PER_TARGET": (1, 1_000_000),
    "PING_LIMIT_WINDOW": (1, 366 * 86400),
    "CONFIRMATIONS_PER_SENDER": (1, 1_000_000),
    "PROXY_FIX": (0, 10),
    "WRITE_SLOTS": (0, 10_000),
    "REFUSAL_HOLDS": (0, 10_000),
    "MAIL_PORT": (1, 65535),
    "XMLRPC_MAX_BYTES": (1024, 64 * 1024 * 1024),
}
_DIGITS = re.compile("[0-9]+")  # ASCII: str.isdigit() takes "²", int() does not
_SERVER_SECONDS = ("REFUSAL_HOLD_SECONDS", "MAIL_GATHER_SECONDS")
_SERVER_FLAGS = ("MAIL_USE_TLS",)
_WORKER_MODES = ("thread", "off")


def _server_problems(config: MutableMapping[str, object]) -> list[str]:
    problems = []
    for key, (low, high) in _SERVER_NUMBERS.items():
        raw = config.get(key)
        if raw is None:
            continue
        if isinstance(raw, bool) or not _DIGITS.fullmatch(str(raw).strip()):
            problems.append(f"{key}={raw!r} is not a whole number")
        elif not low <= int(str(raw)) <= high:
            problems.append(f"{key}={raw} is outside {low}-{high}")
        else:
            config[key] = int(str(raw))  # "0256" from a file is 256
    for key in _SERVER_SECONDS:
        raw = config.get(key)
        try:
            seconds = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(f"{key}={raw!r} is not a number of seconds")
            continue
        if not 0 <= seconds <= 3600:
            problems.append(f"{key}={raw} is outside 0-3600")
    for key in _SERVER_FLAGS:
        try:
            # Written back as a bool: "no" from the environment is a true string.
            config[key] = read_flag(config.get(key))
        except ValueError:
            problems.append(f"{key}={config.get(key)!r} is neither yes nor no")
    for key in ("BACKGROUND_WORKER", "MENTIONS_WORKER"):
        if config.get(key) == "":
            config[key] = None  # set empty: the default, as before
        if config.get(key) not in (None, *_WORKER_MODES):
            problems.append(f"{key}={config.get(key)!r} is not one of thread, off")
    if not config.get("TIMEZONE"):
        # Set empty (an EnvironmentFile's BLOG_TIMEZONE=): the default, as
        # every reader of the value expects one.
        config["TIMEZONE"] = DEFAULT_TIMEZONE
    try:
        ZoneInfo(str(config["TIMEZONE"]))
    except (ValueError, ZoneInfoNotFoundError):
        problems.append(f"TIMEZONE={config.get('TIMEZONE')!r} is no IANA time zone")
    site = urlsplit(str(config.get("SITE_URL") or ""))
    if site.scheme not in ("http", "https") or not site.hostname:
        problems.append(
            f"SITE_URL={config.get('SITE_URL')!r} is no http(s)://host[/path] address"
        )
    if _password_in_clear(config):
        problems.append(
            "MAIL_USERNAME is set without MAIL_USE_TLS: the mail password would "
            "cross the network in clear (set MAIL_USE_TLS, or use a relay on "
            "this machine)"
        )
    return problems


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: only "localhost" is known to be this machine
        return False


def _password_in_clear(config: Mapping[str, object]) -> bool:
    # A relay on this machine may take a password over plain SMTP: it never
    # leaves the host.
    server = str(config.get("MAIL_SERVER") or "").strip("[]")
    local = server.rstrip(".") == "localhost" or _is_loopback(server)
    return (
        bool(server and config.get("MAIL_USERNAME") and not config.get("MAIL_USE_TLS"))
        and not local
    )


def check_config(config: MutableMapping[str, object]) -> None:
    """Refuse a value of the config (BLOG_*, instance/config.py) that is no
    value of its kind: a silent fallback would leave the operator guessing.
    Yes/no values of the server are written back as bools."""
    problems = _server_problems(config)
    for spec in SETTINGS:
        raw = config.get(spec.config_key)
        if raw is None:
            continue
        try:
            value = coerce_value(spec, raw)
        except (TypeError, ValueError):
            kind = "neither yes nor no" if spec.kind == "flag" else "not a whole number"
            problems.append(f"{spec.config_key}={raw!r} is {kind}")
            continue
        if spec.kind == "number" and not spec.low <= value <= spec.high:
            problems.append(
                f"{spec.config_key}={value} is outside {spec.low}-{spec.high}"
            )
        if spec.kind == "choice" and value not in dict(spec.choices):
            allowed = ", ".join(dict(spec.choices))
            problems.append(f"{spec.config_key}={value!r} is not one of {allowed}")
    if problems:
        raise ConfigValueError(f"Refusing to start: {'; '.join(problems)}.")


def check_outbound_config(config: MutableMapping[str, Any]) -> None:
    """Refuse at start-up ``OUTBOUND_*`` values of no use, which every ping
    would otherwise meet as a 500 (ConfigValueError, one line); the yes/no of
    ``OUTBOUND_ONLY_ALLOWED`` is written back as a bool."""
    problems = []
    try:
        limits = limits_from_config(config)
    except (TypeError, ValueError) as error:
        problems.append(f"an OUTBOUND_* limit is no number ({error})")
    else:
        numbers = [v for v in vars(limits).values() if not isinstance(v, frozenset)]
        if any(not value > 0 for value in numbers) or not all(
            0 < port < 65536 for port in limits.ports
        ):
            problems.append("the OUTBOUND_* limits must be positive, ports 1-65535")
    allowed = config.get("OUTBOUND_ALLOW") or ()
    if not isinstance(allowed, str | list | tuple):
        problems.append(f"OUTBOUND_ALLOW={allowed!r} is no list of hosts")
        allowed = ()
    entries = allowed.split(",") if isinstance(allowed, str) else allowed
    for entry in (str(raw).strip().strip("[]") for raw in entries):
        # A slash makes it a network, never a host name: one that is none
        # (10.0.0.0/33) would be kept as a name and silently match nothing.
        if "/" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                problems.append(f"OUTBOUND_ALLOW holds {entry!r}, which is no network")
    if config.get("OUTBOUND_ONLY_ALLOWED") is not None:
        try:
            config["OUTBOUND_ONLY_ALLOWED"] = read_flag(config["OUTBOUND_ONLY_ALLOWED"])
        except ValueError:
            problems.append("OUTBOUND_ONLY_ALLOWED is neither yes nor no")
    if problems:
        raise ConfigValueError(f"Refusing to start: {'; '.join(problems)}.")


def warn_of_a_local_site_url(app: Flask) -> None:
    """Log a warning when the production server starts on the local SITE_URL.

    Not refused: a first start on the machine itself is fine. But mail, feeds
    and pings would name that address, and only it would count as ours.
    (``make run`` serves there on purpose: it never comes through here.)"""
    if app.config.get("SITE_URL") == LOCAL_SITE_URL:
        app.logger.warning(
            "SITE_URL is still %s: mail, feeds and pings will link there. Set "
            "BLOG_SITE_URL (or SITE_URL in instance/config.py) to the blog's "
            "public address.",
            LOCAL_SITE_URL,
        )
