"""What one rate-limit hit costs while many addresses are counted (#12).

Usage: ``.venv/bin/python bench/ratelimit_storage.py [--addresses 50000]``.

Fills each storage with one fixed-window counter per address, as a flood from
many addresses does, then times hits of new addresses one millisecond apart
(the pace of a busy worker) and prints the CPU time per hit, the sweeps and
timer threads included, and the ratio of ``memory://`` (the ``limits``
package's) to ``local://`` (the blog's default) measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from limits import parse  # noqa: E402
from limits.storage import storage_from_string  # noqa: E402
from limits.strategies import FixedWindowRateLimiter  # noqa: E402

import blog.web.localstore  # noqa: E402,F401 (registers local://)


def cost_per_hit(uri: str, addresses: int, hits: int) -> tuple[float, int]:
    """CPU ms per hit and the most threads seen, for the storage at ``uri``."""
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    budget = parse("60 per minute")
    for number in range(addresses):
        limiter.hit(budget, f"10.{number >> 16}.{number >> 8 & 255}.{number & 255}")
    threads = 0
    started = time.process_time()
    for number in range(hits):
        limiter.hit(budget, f"11.0.{number >> 8 & 255}.{number & 255}")
        time.sleep(0.001)
        threads = max(threads, threading.active_count())
    return (time.process_time() - started) / hits * 1000, threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=50_000)
    parser.add_argument("--hits", type=int, default=2_000)
    args = parser.parse_args()
    print(f"{args.addresses:,} addresses counted, {args.hits:,} hits 1 ms apart")
    print("| storage | CPU ms per hit | threads |\n|---|---:|---:|")
    results = {}
    for uri in ("memory://", "local://"):
        results[uri], threads = cost_per_hit(uri, args.addresses, args.hits)
        print(f"| {uri} | {results[uri]:.3f} | {threads} |")
    print(f"memory:// / local://: {results['memory://'] / results['local://']:.1f}x")


if __name__ == "__main__":
    main()
