"""Gunicorn settings for the blog: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Environment overrides: GUNICORN_BIND (default 127.0.0.1:8000, behind nginx),
GUNICORN_WORKERS (default 2 x CPUs + 1, at most 12), GUNICORN_THREADS (default
32 per worker, gthread; 1: sync workers),
GUNICORN_TIMEOUT (30 s),
GUNICORN_ACCESS_LOG (default "-", standard output). Command-line flags such as
``--bind`` win over this file.
"""

import gc
import multiprocessing
import os
import re


def _count(name: str, default: int) -> int:
    # A value that is no whole number of at least 1 stops start-up in one line
    # (0 workers would listen and answer nothing).
    value = os.environ.get(name, str(default))
    if not re.fullmatch(r"[0-9]+", value.strip()) or int(value) < 1:
        raise SystemExit(f"Refusing to start: {name}={value!r} is not a number >= 1.")
    return int(value)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _count("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 12))
# 2 x CPUs + 1 workers, each with a pool of threads (gthread). The app lets at
# most one public POST per CPU but one write at once (WRITE_SLOTS), so that on
# two CPUs or more a CPU and most workers are always free for readers. Threads
# let a worker keep a reader's connection alive without holding a thread, and
# answer a refused POST after a pause in a sleeping thread
# (REFUSAL_HOLD_SECONDS): a script that floods the comment form then sends once
# a second instead of taking turns from readers. Three threads in four may hold
# refusals; the rest always serve. GUNICORN_THREADS=1 gives sync workers (no
# pause: a sync worker held would be a worker lost).
threads = _count("GUNICORN_THREADS", 32)
# Pages are short database reads: a request still running after this is stuck.
timeout = _count("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound. Not
# too often: a new worker starts with an empty page cache and uncompiled
# templates (at 2,000 requests, a busy worker was replaced every few seconds).
max_requests = 20000
max_requests_jitter = 2000
# Build the app once in the master: a configuration error (such as a missing
# secret key) stops start-up with one clear message instead of failing workers.
preload_app = True


def pre_fork(server, worker):
    # The app loaded in the master is long-lived: frozen, the garbage collector
    # of each worker never walks it again (a full collection over it was the
    # slowest of a POST's pauses: p99 of 49 ms, 22-25 ms frozen, one worker),
    # and never writes to its pages, which stay shared with the master.
    gc.freeze()


def post_worker_init(worker):
    # The pauses follow the threads this worker really has: --threads and
    # GUNICORN_CMD_ARGS win over this file's value.
    from blog.web.heldrefusals import fit_refusal_holds

    fit_refusal_holds(worker.wsgi, worker.cfg.threads)


# gunicorn would take SCRIPT_NAME and PATH_INFO from request headers sent by
# the addresses in forwarded_allow_ips (127.0.0.1 by default): any local client
# could then choose the prefix of every link on a page. The blog's root comes
# from SITE_URL instead, so no header may set it.
forwarder_headers = ""

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The combined format plus the duration. With BLOG_PROXY_FIX set, ProxyFix has
# already put the real client address in place of nginx's when this is logged.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'
)
