"""Shared by the load benchmarks: gunicorn on 127.0.0.1, wrk and its figures."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POST = "/chi-e-e-chi-non-e-il-community-manager/"


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    queries: str = ""
    ratio: float | None = None  # to the ceiling measured in the same round
    round_ratios: tuple[float, ...] = ()
    cpu_ms: float | None = None  # server CPU time (all gunicorn processes) per request
    requests: int = 0  # completed, whatever their status
    socket_errors: int = 0  # connect, read, write errors and timeouts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def blog_package(env: dict[str, str]) -> Path:
    """Where gunicorn, started as below with ``env``, imports ``blog`` from."""
    output = subprocess.run(
        [sys.executable, "-c", "import blog; print(blog.__file__)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Path(output.strip()).parent


def seeded_app(env: dict[str, str]):
    """The blog's app on a new database holding the schema and the seed."""
    os.environ.update(env)
    from blog import create_app
    from blog.extensions import db
    from blog.ops.schema import upgrade_database
    from blog.seed.loader import load_seed

    app = create_app()
    with app.app_context():
        upgrade_database()
        load_seed()
        db.session.commit()  # load_seed leaves committing to its caller
    return app


def start_gunicorn(
    app_spec: str,
    port: int,
    env: dict[str, str],
    log: Path,
    *,
    python: str = sys.executable,
    config: Path | None = ROOT / "gunicorn.conf.py",
    options: Sequence[str] = (),
    cwd: Path = ROOT,
):
    """Start gunicorn on 127.0.0.1:``port`` and return once it accepts connections."""
    process = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            *(["-c", str(config)] if config else []),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--no-control-socket",
            *options,
            app_spec,
        ],
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return wait_until_listening(process, port, log, 60)


def wait_until_listening(process, port: int, log: Path, timeout: float):
    """``process`` once 127.0.0.1:``port`` takes connections; its log if it dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.1)
    stop_gunicorn(process)
    raise RuntimeError(f"{Path(process.args[0]).name} did not start")


NGINX_DIR = ROOT / "deploy" / "nginx"


def start_nginx(port: int, app_port: int, home: Path) -> subprocess.Popen:
    """nginx on 127.0.0.1:``port`` in front of the blog on ``app_port``, with the
    project's own limits and proxy settings (deploy/nginx/limits.conf, app.conf).

    As in production but for one thing: the client address is taken from the
    request's X-Forwarded-For, so that wrk on this machine can stand for many
    clients (``flood_comment.lua``)."""
    config = home / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {home / ('nginx-' + kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config.write_text(
        f"""worker_processes 1;
error_log {home / "nginx-error.log"} warn;
pid {home / "nginx.pid"};
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    include {NGINX_DIR / "limits.conf"};
    upstream blog_app {{ server 127.0.0.1:{app_port}; }}
    server {{
        listen 127.0.0.1:{port};
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        include {NGINX_DIR / "app.conf"};
    }}
}}
"""
    )
    log = home / "nginx.log"
    process = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(home), "-c", str(config)]
        + ["-g", "daemon off;"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return wait_until_listening(process, port, log, 20)


def stop_gunicorn(process) -> None:
    """Stop a gunicorn master and its workers (its own process group)."""
    try:  # the whole group: workers left behind would keep the port and the CPU
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def worker_peak_memory_mb(master_pid: int) -> list[float]:
    """VmHWM (peak resident memory) of each worker of a gunicorn master."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
            if match:
                peaks.append(int(match.group(1)) / 1024)
    return sorted(peaks)


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time used so far by a gunicorn master, its workers and reaped workers."""
    ticks = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = status.read_text()
        except OSError:
            continue
        pid = int(status.parent.name)
        fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)"
        parent = int(fields[1])
        if pid == master_pid:  # utime, stime, cutime, cstime (reaped workers)
            ticks += sum(int(value) for value in fields[11:15])
        elif parent == master_pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk_command(url: str, args, extra=()) -> list[str]:
    """The wrk command line for one run with ``args``' threads, connections, time."""
    return [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        *extra,
        url,
    ]


def parse_wrk(name: str, output: str) -> Result:
    """The figures of one wrk run from its standard output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _latency_ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = _latency_ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result = Result(name, rps, p50, p99, int(bad.group(1)) if bad else 0)
    result.requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result.socket_errors = sum(map(int, errors.groups())) if errors else 0
    return result


def run_wrk(
    name: str, url: str, args, extra=(), env=None, server: int | None = None
) -> Result:
    """One wrk run; with ``server`` (a gunicorn master's pid), its CPU per request."""
    cpu_before = server_cpu_seconds(server) if server else 0.0
    output = subprocess.run(
        wrk_command(url, args, extra),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    result = parse_wrk(name, output)
    if server:
        cpu = server_cpu_seconds(server) - cpu_before
        result.cpu_ms = 1000 * cpu / max(result.requests, 1)
    return result


def median_result(runs: list[Result]) -> Result:
    """One row for several rounds of a scenario: the median of each figure."""
    ratios = [run.ratio for run in runs if run.ratio is not None]
    cpus = [run.cpu_ms for run in runs if run.cpu_ms is not None]
    return Result(
        runs[0].name,
        statistics.median(run.rps for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        sum(run.non_2xx for run in runs),
        ratio=statistics.median(ratios) if ratios else None,
        round_ratios=tuple(ratios),
        cpu_ms=statistics.median(cpus) if cpus else None,
        requests=sum(run.requests for run in runs),
        socket_errors=sum(run.socket_errors for run in runs),
    )


def _latency_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def comment_form_session(base: str) -> tuple[str, str]:
    """A session cookie and the form fields (with its CSRF token) for POSTs."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + POST).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    fields = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "author": "Lettore di carico",
            "email": "carico@example.org",
            "comment_parent": "0",
        }
    )
    return cookie, fields
