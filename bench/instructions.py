"""Instructions per accepted comment POST, counted by valgrind (#12).

Usage: ``.venv/bin/python bench/instructions.py [--baseline DIR]``; needs
valgrind (the Debian package).

Wall-clock figures on a shared machine move by a fifth from one minute to the
next; the number of instructions the interpreter runs for a comment POST does
not. This runs the blog's WSGI app in-process (no server, no socket: what the
kernel does for a request is not counted) under ``valgrind --tool=callgrind``,
twice: once with 100 comment POSTs and once with 400, both after the same
warm-up, so that start-up cancels out. The difference over 300 is the count
for one POST, garbage collection included. The POSTs go through the real
form with its CSRF token, flood and too-fast rules off, each comment held for
moderation, the background worker off.

``--baseline DIR`` counts another checkout of the blog (a ``git worktree`` of
an older commit) the same way and prints the ratio.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
WARM_UP, FEW, MANY = 100, 100, 400
ENV = {
    "BLOG_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
    "BLOG_SITE_URL": "http://127.0.0.1:5000",
    "BLOG_COMMENT_FLOOD_SECONDS": "0",
    "BLOG_COMMENT_MIN_SECONDS": "0",
    "BLOG_POST_LIMIT_PER_ADDRESS": "1000000 per minute",
    "BLOG_WRITE_SLOTS": "0",
    "BLOG_BACKGROUND_WORKER": "off",
}


def post_comments(root: Path, count: int) -> None:
    """In this process: the blog of ``root`` on a new database, ``WARM_UP``
    comment POSTs, then ``count`` more."""
    sys.path[:0] = [str(root), str(root / "bench")]
    import logging

    from harness import POST, seeded_app

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as home:
        database = f"sqlite:///{home}/blog.sqlite3"
        app = seeded_app({**ENV, "BLOG_DATABASE_URL": database})
        _post_comments(app, POST, count)


def _post_comments(app, post_url: str, count: int) -> None:
    # The form is read here, as harness.comment_form_session reads it over
    # HTTP: a baseline checkout brings its own harness, which has no helper
    # for a page already fetched.
    page = app.test_client().get(post_url)
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if token is None:
        raise SystemExit(f"no comment form on {post_url} ({page.status})")
    cookie = "; ".join(
        header.split(";", 1)[0] for header in page.headers.getlist("Set-Cookie")
    )
    fields = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "author": "Lettore di carico",
            "email": "carico@example.org",
            "comment_parent": "0",
        }
    )

    def post(number: int) -> None:
        body = f"{fields}&comment=Commento+di+carico+{number}".encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": post_url + "comment",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "5000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_COOKIE": cookie,
            "HTTP_HOST": "127.0.0.1:5000",
            "REMOTE_ADDR": "127.0.0.1",
        }
        statuses = []
        answer = app(environ, lambda status, headers, exc=None: statuses.append(status))
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
        if not statuses[0].startswith("302"):
            raise SystemExit(f"a comment POST was answered {statuses[0]}")

    for number in range(WARM_UP):
        post(-number - 1)
    for number in range(count):
        post(number)


def instructions(root: Path, count: int) -> int:
    """Instructions valgrind counts for a run of ``post_comments``."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(HERE),
                "--run",
                str(root),
                str(count),
            ],
            capture_output=True,
            text=True,
            check=False,
            # String hashes drive dict and set layouts: a fixed seed, so that
            # two runs of the same code count the same.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        found = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode != 0 or found is None:
            raise SystemExit(f"valgrind failed:\n{run.stderr[-2000:]}")
        return int(found.group(1))


def per_post(root: Path) -> float:
    """Instructions for one comment POST of the blog at ``root``: both runs
    at once (a count does not depend on what else the machine runs)."""
    with ThreadPoolExecutor(2) as pool:
        many, few = pool.map(lambda count: instructions(root, count), (MANY, FEW))
    return (many - few) / (MANY - FEW)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to compare")
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        post_comments(Path(args.run[0]), int(args.run[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    os.environ.pop("PYTHONPATH", None)
    blog = per_post(ROOT)
    print(f"blog ({ROOT}): {blog / 1e6:.2f} million instructions per comment POST")
    if args.baseline:
        base = per_post(args.baseline.resolve())
        print(f"baseline ({args.baseline}): {base / 1e6:.2f} million")
        print(f"blog / baseline: {blog / base:.3f}")


if __name__ == "__main__":
    main()
