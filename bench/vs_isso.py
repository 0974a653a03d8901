"""Comment POSTs: the blog next to Isso 0.14 in the same run, measured by wrk (#12).

Usage: ``make bench-isso`` (or ``.venv/bin/python bench/vs_isso.py --duration 10``).

Isso 0.14.0 and the blog's gunicorn version are installed from PyPI, once, into
a virtualenv of their own (``bench/.isso-venv``, git-ignored, kept for the next
runs); if that fails the Isso column is left out. Both servers run under
gunicorn on 127.0.0.1 with the same number of sync workers, their app loaded
before the fork and the access log that gunicorn.conf.py gives the blog, each
on a new SQLite database in a temporary directory:

- Isso with moderation on and its guard (rate limits) off, no SMTP; wrk posts
  the JSON its own client sends to ``POST /new?uri=<post>`` (``isso_comment.lua``);
- the blog with its guards off as Isso's are (the flood and too-fast rules,
  the budget per address, and the write slots, whose 503s refuse comments
  Isso would store; ``BLOG_WRITE_SLOTS=N`` in the environment measures N
  slots) and every comment held for moderation (the default); wrk posts the
  real comment form with its CSRF token (``post_comment.lua``).

- the stack's floor (``floor_app.py``): Flask, a Flask-WTF form, bleach and one
  INSERT, nothing more, posted to the same way: what any app on the blog's
  packages costs at least, so the blog's own share of its cost shows.

After a warm-up of each, the three are measured in alternation ``--rounds`` times;
the table gives the medians, the comments each database holds for moderation
afterwards, and the ratio of the blog's comment POSTs per second to Isso's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 (the paths above make bench/ and blog importable)
    POST,
    ROOT,
    Result,
    blog_package,
    comment_form_session,
    free_port,
    median_result,
    run_wrk,
    seeded_app,
    start_gunicorn,
    stop_gunicorn,
    worker_peak_memory_mb,
)

ISSO_REQUIREMENT = "isso==0.14.0"
ISSO, BLOG = "Isso 0.14.0", "blog"
FLOOR = "floor: Flask + Flask-WTF + bleach + one INSERT"
TARGET_RATIO, GOAL_RATIO, TARGET_P99_MS = 2.0, 3.0, 50.0


def _write_slots_label() -> str:
    slots = os.environ.get("BLOG_WRITE_SLOTS", "0").strip()
    return "off" if slots == "0" else slots


@dataclass
class Side:
    """One server under test and how to post to it and count what it stored."""

    name: str
    url: str
    script: Path
    wrk_env: dict[str, str]
    pid: int
    database: Path
    held_sql: str  # rows held for moderation


def configured_workers() -> int:
    """The worker count gunicorn.conf.py gives in this environment."""
    return int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"])


def peer_logging() -> list[str]:
    """gunicorn options that give every side the access log gunicorn.conf.py
    gives the blog, written to the same kind of file: each pays for a line a
    request."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    if not config.get("accesslog"):
        return []
    return [
        "--access-logfile",
        config["accesslog"],
        "--access-logformat",
        config["access_log_format"],
    ]


def isso_python(venv: Path) -> tuple[str | None, str]:
    """The Python of a virtualenv holding Isso, made once; or None and why not."""
    # The same gunicorn as ours, so only the applications differ.
    requirements = [ISSO_REQUIREMENT, f"gunicorn=={version('gunicorn')}"]
    wanted = "\n".join(requirements) + "\n"
    python, marker = venv / "bin" / "python", venv / "bench-requirements.txt"
    # Written last: a virtualenv without it is a failed or interrupted install.
    if marker.is_file() and marker.read_text() == wanted and python.exists():
        return str(python), ""
    print(f"Installing {' '.join(requirements)} into {venv} (kept for next runs)...")
    shutil.rmtree(venv, ignore_errors=True)
    try:
        for command in (
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", *requirements],
        ):
            subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=900
            )
    except subprocess.CalledProcessError as error:
        shutil.rmtree(venv, ignore_errors=True)
        lines = (error.stderr or error.stdout or "").strip().splitlines()
        # pip's own verdict, not the warnings that come before it.
        lines = [line for line in lines if line.startswith("ERROR")] or lines[-5:]
        return None, f"`{' '.join(error.cmd[2:])}` failed: " + " / ".join(lines)
    except (OSError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(venv, ignore_errors=True)
        return None, str(error)
    marker.write_text(wanted)
    return str(python), ""


def write_isso_config(home: Path, blog_base: str) -> Path:
    """Isso's settings: its SQLite file, the blog as its site, moderation on."""
    config = home / "isso.cfg"
    config.write_text(
        "[general]\n"
        f"dbpath = {home / 'isso.sqlite3'}\n"
        f"host = {blog_base}/\n"
        # Isso's default: each new comment is logged (the blog logs its notice too).
        "notify = stdout\n"
        "reply-notifications = false\n"
        "[moderation]\n"
        "enabled = true\n"
        "[guard]\n"
        # Its rate limit (2 comments a minute per address) would refuse the load.
        "enabled = false\n"
        "[admin]\n"
        "enabled = false\n"
    )
    return config


def held_rows(database: Path, sql: str) -> int:
    """Rows held for moderation once the server has finished its last requests."""
    # wrk stops with requests in flight: wait until the count no longer moves.
    deadline, last = time.monotonic() + 10, -1
    while True:
        with closing(sqlite3.connect(database, timeout=30)) as connection:
            count = connection.execute(sql).fetchone()[0]
        if count == last or time.monotonic() > deadline:
            return count
        last = count
        time.sleep(0.5)


def measure(side: Side, args, tag: str) -> tuple[Result, int]:
    """One wrk run against a side; its figures and the rows it stored."""
    before = held_rows(side.database, side.held_sql)
    result = run_wrk(
        side.name,
        side.url,
        args,
        ["-s", str(side.script)],
        env={**os.environ, **side.wrk_env, "BENCH_RUN": tag},
        server=side.pid,
    )
    return result, held_rows(side.database, side.held_sql) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--warm-up", type=int, default=2, help="seconds, each side")
    parser.add_argument("--rounds", type=int, default=3, help="Isso/blog alternations")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workers",
        type=int,
        default=configured_workers(),
        help="gunicorn sync workers, each side (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--isso-venv", type=Path, default=ROOT / "bench" / ".isso-venv")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    python, why = isso_python(args.isso_venv)
    if python is None:
        print(f"Isso is not available, its column is left out: {why}")

    home = Path(tempfile.mkdtemp(prefix="blog-bench-isso-"))
    blog_port, isso_port = free_port(), free_port()
    base = f"http://127.0.0.1:{blog_port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
        "BLOG_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
        "BLOG_DATABASE_URL": f"sqlite:///{home / 'blog.sqlite3'}",
        "BLOG_SITE_URL": base,
        "BLOG_COMMENT_FLOOD_SECONDS": "0",
        "BLOG_COMMENT_MIN_SECONDS": "0",
        # Isso's guard is off: so are the blog's budget per address and, unless
        # the environment names a number, its write slots. With them 16
        # connections on two sync workers are mostly answered 503 (a comment
        # refused to keep a worker for readers, which Isso would have stored).
        "BLOG_POST_LIMIT_PER_ADDRESS": "1000000 per minute",
        "BLOG_WRITE_SLOTS": os.environ.get("BLOG_WRITE_SLOTS", "0"),
    }
    package = blog_package(env)
    print(f"blog package under test: {package}")
    if package != ROOT / "blog":
        sys.exit(f"gunicorn would import blog from {package}, not from {ROOT}")
    seeded_app(env)
    servers = []
    memory: dict[str, list[float]] = {}
    rounds: dict[str, list[Result]] = {}
    stored: dict[str, int] = {}
    try:
        # Sync workers on every side, as the issue compares them: the blog's
        # gunicorn.conf.py would make its workers threaded.
        # Every side writes gunicorn.conf.py's access log to its own log file
        # (the harness would send the blog's to /dev/null); the others run
        # without gunicorn.conf.py itself, which loads the blog.
        options = ["--workers", str(args.workers), "--threads", "1", *peer_logging()]
        blog = start_gunicorn(
            "wsgi:app", blog_port, env, home / "blog.log", options=options
        )
        servers.append(blog)
        cookie, fields = comment_form_session(base)
        sides = []
        if python:
            # Isso asks the blog for the post's title on its first comment there.
            isso, why = start_isso(python, isso_port, home, base, options)
            if isso:
                servers.append(isso)
                sides.append(
                    Side(
                        ISSO,
                        f"http://127.0.0.1:{isso_port}/new?"
                        + urllib.parse.urlencode({"uri": POST}),
                        ROOT / "bench" / "isso_comment.lua",
                        {"BENCH_ORIGIN": base, "BENCH_REFERER": base + POST},
                        isso.pid,
                        home / "isso.sqlite3",
                        "SELECT count(*) FROM comments WHERE mode = 2",
                    )
                )
        # The stack's floor (bench/floor_app.py), started the way Isso is.
        floor_port = free_port()
        floor = start_gunicorn(
            "floor_app:app",
            floor_port,
            {
                **env,
                "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
                "BENCH_FLOOR_DATABASE_URL": f"sqlite:///{home / 'floor.sqlite3'}",
            },
            home / "floor.log",
            config=None,
            options=[*options, "--preload"],
        )
        servers.append(floor)
        floor_base = f"http://127.0.0.1:{floor_port}"
        floor_cookie, floor_fields = comment_form_session(floor_base)
        sides.append(
            Side(
                FLOOR,
                floor_base + POST + "comment",
                ROOT / "bench" / "post_comment.lua",
                {"BENCH_COOKIE": floor_cookie, "BENCH_BODY_PREFIX": floor_fields},
                floor.pid,
                home / "floor.sqlite3",
                "SELECT count(*) FROM comment WHERE status = 'pending'",
            )
        )
        sides.append(
            Side(
                BLOG,
                base + POST + "comment",
                ROOT / "bench" / "post_comment.lua",
                {"BENCH_COOKIE": cookie, "BENCH_BODY_PREFIX": fields},
                blog.pid,
                home / "blog.sqlite3",
                "SELECT count(*) FROM comment WHERE status = 'pending'",
            )
        )
        warm_up = argparse.Namespace(**{**vars(args), "duration": args.warm_up})
        for side in sides:
            measure(side, warm_up, "w")
        for number in range(args.rounds):
            for side in sides:
                result, rows = measure(side, args, str(number))
                rounds.setdefault(side.name, []).append(result)
                stored[side.name] = stored.get(side.name, 0) + rows
            if ISSO in rounds:
                isso_run = rounds[ISSO][-1]
                for name in (BLOG, FLOOR):
                    run = rounds[name][-1]
                    run.ratio = accepted_rps(run) / accepted_rps(isso_run)
        for side in sides:
            memory[side.name] = worker_peak_memory_mb(side.pid)
    finally:
        for process in servers:
            stop_gunicorn(process)
        shutil.rmtree(home, ignore_errors=True)
    results = [
        median_result(rounds[name]) for name in (ISSO, FLOOR, BLOG) if name in rounds
    ]
    print_table(results, stored, memory, args, why)


def accepted_rps(run: Result) -> float:
    """Comments accepted per second: the 2xx/3xx share of wrk's requests/s."""
    return run.rps * (run.requests - run.non_2xx) / max(run.requests, 1)


def cpu_per_accepted(run: Result) -> float:
    """Server CPU ms per accepted comment (refusals' CPU charged to them)."""
    return run.cpu_ms * run.requests / max(run.requests - run.non_2xx, 1)


def start_isso(python: str, port: int, home: Path, blog_base: str, options):
    """Isso under gunicorn (its ``isso.run`` entry point); or None and why not."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {
        "ISSO_SETTINGS": str(write_isso_config(home, blog_base))
    }
    try:
        # --preload as our gunicorn.conf.py: the app (and Isso's lock, meant to
        # be shared by the processes) is made once in the master.
        process = start_gunicorn(
            "isso.run:application",
            port,
            env,
            home / "isso.log",
            python=python,
            config=None,
            options=[*options, "--preload"],
            cwd=home,
        )
    except RuntimeError as error:
        return None, "Isso did not start: " + " / ".join(
            str(error).strip().splitlines()[-3:]
        )
    return process, ""


def print_table(
    results: list[Result],
    stored: dict[str, int],
    memory: dict[str, list[float]],
    args,
    why: str,
) -> None:
    print(
        f"\nComment POSTs: wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s after a {args.warm_up} s warm-up, median of "
        f"{args.rounds} alternating rounds; gunicorn {args.workers} sync workers "
        f"each, SQLite, {os.cpu_count()} CPUs; the blog's write slots: "
        f"{_write_slots_label()}\n"
    )
    print(
        "| server | req/s | accepted/s | p50 ms | p99 ms | 2xx/3xx responses | "
        "stored rows (held) | non-2xx/3xx | socket errors | server CPU ms/req | "
        "/ Isso (accepted/s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = "1.00" if r.name == ISSO else (f"{r.ratio:.2f}" if r.ratio else "")
        print(
            f"| {r.name} | {r.rps:,.0f} | {accepted_rps(r):,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | "
            f"{r.requests - r.non_2xx:,} | {stored[r.name]:,} | {r.non_2xx} | "
            f"{r.socket_errors} | {r.cpu_ms:.2f} | {ratio} |"
        )
    print()
    for r in results:
        # Requests still in flight when wrk stops are stored but not counted.
        accepted = r.requests - r.non_2xx
        verdict = "all stored" if stored[r.name] >= accepted else "SOME MISSING"
        print(
            f"{r.name}: {stored[r.name]:,} rows held for moderation for {accepted:,} "
            f"accepted POSTs ({verdict}); peak memory per worker "
            + ", ".join(f"{m:.0f}" for m in memory[r.name])
            + " MB"
        )
    by_name = {r.name: r for r in results}
    blog = by_name[BLOG]
    if ISSO not in by_name:
        print(f"\nIsso column skipped: {why}")
    else:
        isso = by_name[ISSO]
        rounds = ", ".join(f"{ratio:.2f}" for ratio in blog.round_ratios)
        print(
            "\nblog / Isso accepted comment POSTs per second: "
            f"{blog.ratio:.2f} (rounds: {rounds}); "
            f"target at least {TARGET_RATIO:g}, goal {GOAL_RATIO:g}: "
            + verdict_of(blog.ratio >= TARGET_RATIO, blog.ratio >= GOAL_RATIO)
        )
        print(
            "Server CPU per accepted comment, Isso / blog (the ratio the server "
            f"side allows): {cpu_per_accepted(isso) / cpu_per_accepted(blog):.2f}"
        )
        floor = by_name[FLOOR]
        print(
            f"The stack's floor ({FLOOR}): {floor.ratio:.2f}x Isso; the blog "
            f"accepts {accepted_rps(blog) / accepted_rps(floor):.2f} of the floor's "
            "comments per second"
        )
    print(
        f"blog p99 at {args.connections} connections: {blog.p99_ms:.1f} ms; "
        f"target under {TARGET_P99_MS:g} ms: "
        + ("met" if blog.p99_ms < TARGET_P99_MS else "not met")
    )


def verdict_of(target: bool, goal: bool) -> str:
    """Words for a figure against its target and its goal."""
    return "goal met" if goal else "target met" if target else "not met"


if __name__ == "__main__":
    main()
