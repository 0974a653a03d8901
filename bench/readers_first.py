"""Readers while writers press on the comment form (#12).

Usage: ``.venv/bin/python bench/readers_first.py [--duration 10 --rounds 3]``.

gunicorn with the project's gunicorn.conf.py on a new SQLite database holding
the seed, with the default moderation rules and ``BLOG_PROXY_FIX=1``. Readers
are wrk with 4 connections on the post page. In each round, measured one after
the other: the readers alone; the readers while one address floods the comment
form (wrk, 16 connections, the real form with its CSRF token: after its budget
every answer is a 429); and the readers while many addresses each send their
first comment (16 connections, a new ``X-Forwarded-For`` address and email per
request, so every comment is accepted and stored). The table gives the medians
and, for each flood, the readers' throughput and p99 as ratios to the readers
alone in the same round. Targets: at least 0.7x the throughput with a p99 at
most 3x alone under one address's flood; at least 0.5x under the many.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 (the paths above make bench/ and blog importable)
    POST,
    ROOT,
    Result,
    comment_form_session,
    free_port,
    parse_wrk,
    run_wrk,
    seeded_app,
    start_gunicorn,
    start_nginx,
    stop_gunicorn,
    wrk_command,
)

ALONE = "readers alone"
ONE = "readers, one address flooding the form"
MANY = "readers, many addresses commenting"
FLOODS = {
    ONE: "post_comment.lua",
    MANY: "flood_comment.lua",
}
# The same measures on bench/static_app.py under the same gunicorn settings: the
# page from memory, every POST refused at no cost. What readers keep there is
# the most any app behind these sync workers can give them.
CEILING = "ceiling app: "


def under_flood(name, base, args, script, flood_env) -> tuple[Result, Result]:
    """The readers' figures while wrk runs ``script`` against the form."""
    flood_args = argparse.Namespace(**{**vars(args), "connections": 16})
    flood = subprocess.Popen(
        wrk_command(
            base + POST + "comment",
            flood_args,
            ["-s", str(ROOT / "bench" / script)],
        ),
        stdout=subprocess.PIPE,
        text=True,
        env=flood_env,
    )
    try:
        readers = run_wrk(name, base + POST, args)
    finally:
        output, _ = flood.communicate()
    return readers, parse_wrk(name + " (the flood)", output)


def stored_comments(database: Path) -> Counter:
    """How many comments the flood left, by status."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT status, count(*) FROM comment WHERE author_name = ? GROUP BY 1",
            ("Lettore di carico",),
        )
        return Counter(dict(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4, help="readers")
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="every request through nginx with deploy/nginx's limits, as in production",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    if args.nginx and not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        sys.exit("nginx is missing: apt-get install nginx-light")
    home = Path(tempfile.mkdtemp(prefix="blog-readers-"))
    port = front_port = free_port()
    if args.nginx:
        port = free_port()
    env = {
        **os.environ,
        "BLOG_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
        "BLOG_DATABASE_URL": f"sqlite:///{home / 'blog.sqlite3'}",
        "BLOG_SITE_URL": f"http://127.0.0.1:{front_port}",
        "BLOG_PROXY_FIX": "1",
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    seeded_app(env)
    server = start_gunicorn("wsgi:app", port, env, home / "app.log")
    servers = [server]
    base = f"http://127.0.0.1:{front_port}"
    rounds: dict[str, list[Result]] = {}
    try:
        if args.nginx:
            servers.append(start_nginx(front_port, port, home))
        cookie, fields = comment_form_session(base)
        # The many addresses bring an email each (flood_comment.lua).
        one_sender = "&".join(
            field for field in fields.split("&") if not field.startswith("email=")
        )
        flood_envs = {
            ONE: {**env, "BENCH_COOKIE": cookie, "BENCH_BODY_PREFIX": fields},
            MANY: {**env, "BENCH_COOKIE": cookie, "BENCH_BODY_PREFIX": one_sender},
        }
        targets = [("", base, FLOODS)]
        if not args.nginx:
            page = home / "static-post.html"
            page.write_bytes(urllib.request.urlopen(base + POST).read())
            static_port = free_port()
            servers.append(
                start_gunicorn(
                    "static_app:app",
                    static_port,
                    {
                        **env,
                        "PYTHONPATH": str(ROOT / "bench"),
                        "BENCH_STATIC_PAGE": str(page),
                    },
                    home / "static.log",
                )
            )
            targets.append(
                (CEILING, f"http://127.0.0.1:{static_port}", {ONE: FLOODS[ONE]})
            )
        warm = argparse.Namespace(**{**vars(args), "duration": 2})
        for _, url, _ in targets:
            run_wrk(ALONE, url + POST, warm)
        for _ in range(args.rounds):
            for prefix, url, floods in targets:
                alone = run_wrk(prefix + ALONE, url + POST, args)
                rounds.setdefault(prefix + ALONE, []).append(alone)
                for name, script in floods.items():
                    readers, flood = under_flood(
                        prefix + name, url, args, script, flood_envs[name]
                    )
                    readers.ratio = readers.rps / alone.rps
                    readers.p99_ratio = readers.p99_ms / alone.p99_ms
                    rounds.setdefault(prefix + name, []).append(readers)
                    rounds.setdefault(prefix + name + " (the flood)", []).append(flood)
        stored = stored_comments(home / "blog.sqlite3")
    finally:
        for process in reversed(servers):
            stop_gunicorn(process)
        shutil.rmtree(home, ignore_errors=True)
    print_table(rounds, args, stored)


def print_table(rounds: dict[str, list[Result]], args, stored: Counter) -> None:
    """The medians of the rounds, as a Markdown table."""
    print(
        f"\n{args.rounds} rounds of {args.duration} s; readers wrk -c{args.connections}"
        ", each flood wrk -c16"
        + ("; through nginx with deploy/nginx's limits" if args.nginx else "")
        + "\n"
    )
    print("| scenario | req/s | p50 ms | p99 ms | vs alone | p99 vs alone | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, runs in rounds.items():
        ratio = [run.ratio for run in runs if run.ratio is not None]
        p99_ratio = [getattr(run, "p99_ratio", None) for run in runs]
        p99_ratio = [value for value in p99_ratio if value is not None]
        print(
            f"| {name} | {statistics.median(r.rps for r in runs):,.0f} "
            f"| {statistics.median(r.p50_ms for r in runs):.2f} "
            f"| {statistics.median(r.p99_ms for r in runs):.2f} "
            f"| {f'{statistics.median(ratio):.2f}' if ratio else ''} "
            f"| {f'{statistics.median(p99_ratio):.2f}' if p99_ratio else ''} "
            f"| {sum(r.non_2xx for r in runs)} |"
        )
    for name in (*FLOODS, CEILING + ONE):
        if name in rounds:
            rounds_text = ", ".join(f"{run.ratio:.2f}" for run in rounds[name])
            print(f"- {name}: throughput ratio per round {rounds_text}")
    print(f"- comments the floods left, by status: {dict(stored)}")


if __name__ == "__main__":
    main()
