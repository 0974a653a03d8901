"""Gunicorn settings for the blog: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Environment overrides: GUNICORN_BIND (default 127.0.0.1:8000, behind nginx),
GUNICORN_WORKERS (default 2 x CPUs + 1, at most 12), GUNICORN_THREADS (default
1: sync workers; more: gthread workers with that many threads each),
GUNICORN_TIMEOUT (30 s),
GUNICORN_ACCESS_LOG (default "-", standard output). Command-line flags such as
``--bind`` win over this file.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(
    os.environ.get("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 12))
)
# Sync workers, 2 x CPUs + 1: the app lets at most one public POST per CPU
# write at once (WRITE_SLOTS), so CPUs + 1 workers are always free for readers.
# Threads: 1 keeps sync workers (one request each, a stuck one killed after the
# timeout). Without nginx in front, a few threads per worker (keep-alive, slow
# clients held without a worker) gave readers more pages but longer tails:
# bench/README.md has both measured.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Pages are short database reads: a request still running after this is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
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
