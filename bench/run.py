"""Load benchmark: the blog under gunicorn on 127.0.0.1, measured by wrk.

Usage: ``make bench`` (or ``.venv/bin/python bench/run.py --duration 10``).

It builds a throwaway SQLite database (the seed, a post with 10,000 comments, a
moderation queue of 100,000 comments), starts gunicorn with the project's
gunicorn.conf.py, and measures with wrk (Debian's package, not our code):
requests per second and p50/p99 latency for each scenario, next to a static
copy of the rendered post page served by the same gunicorn set-up, which is the
ceiling. It prints a table with the ratios to that ceiling, the SQL queries per
page (counted in-process) and the peak memory of each worker.

The ceiling, the post pages and the moderation queue are measured in
alternation, ``--rounds`` times (5 by default): each ratio is taken against the
ceiling measured just before it, and the table shows the median of the rounds,
so that a slow moment of a shared machine does not decide the comparison.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 (the paths above make bench/ and blog importable)
    POST,
    ROOT,
    Result,
    comment_form_session,
    free_port,
    median_result,
    run_wrk,
    seeded_app,
    start_gunicorn,
    stop_gunicorn,
    worker_peak_memory_mb,
)

CEILING = "static copy of the post page (ceiling)"
AUTHOR, PASSWORD = "benchauthor", "bench-password-lunga-123"


def build_database(env: dict[str, str], static_page: Path) -> dict[str, str]:
    """Create the data set; count queries per page; save the static copy."""
    # No background jobs in this process: their statements (the hourly address
    # purge, the mail) would be counted as the pages'.
    app = seeded_app({**env, "BLOG_BACKGROUND_WORKER": "off"})
    os.environ.pop("BLOG_BACKGROUND_WORKER")
    import data
    from sqlalchemy import event
    from werkzeug.security import generate_password_hash

    from blog.core.signals import sql_outside_sqlalchemy
    from blog.extensions import db
    from blog.models import Author

    with app.app_context():
        db.session.add(
            Author(
                username=AUTHOR,
                slug=AUTHOR,
                display_name="Autore del benchmark",
                password_hash=generate_password_hash(PASSWORD),
            )
        )
        db.session.commit()
        data.build()
        db.session.commit()
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def outside(sender, statement: str) -> None:
        statements.append(statement)

    sql_outside_sqlalchemy.connect(outside)

    def count(client, path: str) -> int:
        statements.clear()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(statements)

    client = app.test_client()
    queries = {
        "post12": f"{count(client, POST)} / {count(client, POST)} cached",
        "post10k": (
            f"{count(client, f'/{data.BIG_POST_SLUG}/')} / "
            f"{count(client, f'/{data.BIG_POST_SLUG}/')} cached"
        ),
    }
    static_page.write_bytes(client.get(POST).get_data())
    if "admin.login" in app.view_functions:
        queries["queue"] = str(_admin_queue_queries(app, count))
    return queries


def _admin_queue_queries(app, count) -> int:
    from blog.accounts.session import new_sign_in
    from blog.extensions import db
    from blog.models import Author

    client = app.test_client()
    with app.test_request_context():
        author = db.session.query(Author).filter_by(username=AUTHOR).one()
        values = new_sign_in(author)
        db.session.commit()
    # A session counts only while its sign-in is in the database.
    with client.session_transaction() as session:
        session.update(values)
    return count(client, "/admin/comments?view=pending")


def admin_cookie(base: str) -> str:
    """Sign in through the real form and return the session cookie."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/admin/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "username": AUTHOR, "password": PASSWORD}
    ).encode()
    opener.open(base + "/admin/login", data=body).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def writer_cookie(base: str, path: str) -> str:
    """Send one comment through the real form on ``path`` and return the
    cookies of its writer's browser: the comment is held, and this browser sees
    it on the page, which is therefore never served from the cache."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + path).read().decode()
    form = re.search(r'<form[^>]*class="comment-form".*?</form>', html, re.S)
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form.group(0)):
        attributes = dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = attributes.get("value", "")
    fields.update(
        author="Chi scrive", email="scrive@example.org", comment="Il mio commento."
    )
    action = re.search(r'action="([^"]+)"', form.group(0)).group(1)
    opener.open(base + action, data=urllib.parse.urlencode(fields).encode()).read()
    if not any(c.name == "comment_owner" for c in jar):
        raise RuntimeError("the comment was not taken: no owner cookie")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=5, help="ceiling/post-page alternations"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    home = Path(tempfile.mkdtemp(prefix="blog-bench-"))
    app_port, static_port = free_port(), free_port()
    env = {
        **os.environ,
        "BLOG_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
        "BLOG_DATABASE_URL": f"sqlite:///{home / 'bench.sqlite3'}",
        "BLOG_SITE_URL": f"http://127.0.0.1:{app_port}",
        "BLOG_COMMENT_FLOOD_SECONDS": "0",
        "BLOG_COMMENT_MIN_SECONDS": "0",
        # The POST scenario measures stored comments, not the per-address budget.
        "BLOG_POST_LIMIT_PER_ADDRESS": "1000000 per minute",
        "BENCH_STATIC_PAGE": str(home / "static-post.html"),
    }
    print("Building the data set (10,000-comment post, 100,000-comment queue)...")
    queries = build_database(env, home / "static-post.html")
    app = start_gunicorn("wsgi:app", app_port, env, home / "app.log")
    static = start_gunicorn(
        "static_app:app",
        static_port,
        {**env, "PYTHONPATH": str(ROOT / "bench")},
        home / "static.log",
    )
    base, static_base = (
        f"http://127.0.0.1:{app_port}",
        f"http://127.0.0.1:{static_port}",
    )
    results: list[Result] = []
    try:
        returning = urllib.request.urlopen(base + POST).headers["Set-Cookie"]
        returning_cookie = ["-H", "Cookie: " + returning.split(";")[0]]
        post_pages = [
            ("post page, 12 comments, new reader", POST, [], "post12"),
            (
                "post page, 12 comments, returning reader",
                POST,
                returning_cookie,
                "post12",
            ),
            (
                "post with 10,000 comments (page 1 of 200)",
                "/post-con-diecimila-commenti/",
                [],
                "post10k",
            ),
        ]
        if "queue" in queries:
            # Measured in the rounds too: this machine's speed moves from one
            # minute to the next, and the ceiling beside it shows by how much.
            post_pages.append(
                (
                    "moderation queue, 100,000 comments",
                    "/admin/comments?view=pending",
                    ["-H", f"Cookie: {admin_cookie(base)}"],
                    "queue",
                )
            )
        # Every worker compiles its templates and fills its page cache first.
        warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
        run_wrk(CEILING, static_base + "/", warm_up)
        for name, path, extra, _key in post_pages:
            run_wrk(name, base + path, warm_up, extra)
        rounds: dict[str, list[Result]] = {}
        for _ in range(args.rounds):
            ceiling = run_wrk(CEILING, static_base + "/", args, server=static.pid)
            rounds.setdefault(CEILING, []).append(ceiling)
            for name, path, extra, _key in post_pages:
                result = run_wrk(name, base + path, args, extra, server=app.pid)
                result.ratio = result.rps / ceiling.rps
                rounds.setdefault(name, []).append(result)
        results.append(median_result(rounds[CEILING]))
        for name, _url, _extra, key in post_pages:
            result = median_result(rounds[name])
            result.queries = queries[key]
            results.append(result)
        # The home page (kept with the content version in Flask since the
        # seventh session, in the page cache since the eighth), and the big
        # post for the writer of a held comment on it (made for every request).
        from data import BIG_POST_SLUG

        big_post = f"/{BIG_POST_SLUG}/"
        writer = writer_cookie(base, big_post)
        for name, path, extra in (
            ("home page (page cache, before Flask)", "/", []),
            ("comments feed (page cache, before Flask)", "/comments/feed/", []),
            # A bot's probe, asked again and again: every answer is a 404 (in
            # the non-2xx column), kept since the tenth session.
            ("a probe for /wp-admin/ (kept 404, before Flask)", "/wp-admin/", []),
            (
                "post with 10,000 comments, a new query string each request",
                big_post,
                ["-s", str(ROOT / "bench" / "query_buster.lua")],
            ),
            (
                "post with 10,000 comments, its writer's page (never cached)",
                big_post,
                ["-H", f"Cookie: {writer}"],
            ),
        ):
            results.append(run_wrk(name, base + path, args, extra, server=app.pid))
        cookie, fields = comment_form_session(base)
        result = run_wrk(
            "comment POST (held for moderation)",
            base + "/chi-e-e-chi-non-e-il-community-manager/comment",
            args,
            ["-s", str(ROOT / "bench" / "post_comment.lua")],
            env={**env, "BENCH_COOKIE": cookie, "BENCH_BODY_PREFIX": fields},
        )
        results.append(result)
        memory = worker_peak_memory_mb(app.pid)
    finally:
        for process in (app, static):
            stop_gunicorn(process)
        shutil.rmtree(home, ignore_errors=True)
    print_table(results, memory, args)


def print_table(results: list[Result], memory: list[float], args) -> None:
    ceiling = results[0].rps
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
        f"gunicorn -c gunicorn.conf.py, {os.cpu_count()} CPUs; "
        f"ceiling and post pages: median of {args.rounds} alternating rounds\n"
    )
    print(
        "| scenario | req/s | p50 ms | p99 ms | vs ceiling | non-2xx/3xx "
        "| server CPU ms/req | SQL queries/page |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        ratio = r.ratio if r.ratio is not None else r.rps / ceiling
        cpu = f"{r.cpu_ms:.3f}" if r.cpu_ms is not None else ""
        print(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{ratio:.2f} | {r.non_2xx} | {cpu} | {r.queries} |"
        )
    by_name = {r.name: r for r in results}
    small = by_name["post page, 12 comments, new reader"]
    returning = by_name["post page, 12 comments, returning reader"]
    big = by_name["post with 10,000 comments (page 1 of 200)"]
    slower = big.p50_ms / small.p50_ms
    print(f"\n10,000-comment post p50 / 12-comment post p50: {slower:.2f}")
    print(
        f"12-comment post req/s / ceiling: {small.ratio:.2f} (new reader), "
        f"{returning.ratio:.2f} (returning reader)"
    )
    for result in (small, returning, big):
        rounds = ", ".join(f"{ratio:.2f}" for ratio in result.round_ratios)
        print(f"  {result.name}, ratio in each round: {rounds}")
    cpu_ceiling = results[0].cpu_ms
    print(
        "Server CPU per request, ceiling / post page (the throughput ratio the "
        f"server side allows): {cpu_ceiling / small.cpu_ms:.2f} (new reader), "
        f"{cpu_ceiling / returning.cpu_ms:.2f} (returning reader), "
        f"{cpu_ceiling / big.cpu_ms:.2f} (10,000-comment post)"
    )
    print(
        "Peak memory per app worker (VmHWM, MB): "
        + ", ".join(f"{m:.1f}" for m in memory)
    )


if __name__ == "__main__":
    main()
