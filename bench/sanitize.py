"""How long the comment cleaner takes on the largest comments, hostile or not.

Prints, for 64 KB inputs of several shapes, the best of five runs in
milliseconds and the ratio to 64 KB of ordinary prose cleaned in the same run.
The target (issue #16) is at most 50 ms for any text up to the size limit.

    .venv/bin/python bench/sanitize.py
"""

from __future__ import annotations

import time

from blog.core.sanitize.comment import COMMENT_MAX_BYTES, clean_comment

SIZE = 64_000
INPUTS = {
    "prose (baseline)": "parola " * (SIZE // 7),
    "prose in paragraphs": ("parola " * 50 + "\n\n") * (SIZE // 352),
    "a- run": "a-" * (SIZE // 2),
    "dotted run": "a." * (SIZE // 2),
    "run of <": "<" * SIZE,
    "<a<a<a": "<a" * (SIZE // 2),
    "10,000 nested inline tags": "<b><i>" * 5_000 + "x",
    "unfinished tags": "<a x " * (SIZE // 5),
    "long attributes": ('<a title="' + "x" * 240 + '">y</a>') * (SIZE // 257),
    "bare URLs": "https://example.org/a " * (SIZE // 22),
    "a URL, then a run of )": "http://a.it/" + ")" * (SIZE - 12),
    "entities": "&egrave;" * (SIZE // 8),
    "line breaks": "a\n" * (SIZE // 2),
    "mixed markup": "<b>x</b> &egrave; http://x.org/ < & " * (SIZE // 36),
}


def best_ms(text: str, runs: int = 5) -> float:
    """The fastest of ``runs`` cleanings of ``text``, in milliseconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        clean_comment(text)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    best_ms(INPUTS["mixed markup"])  # warm up: imports, regexes, html5lib tables
    baseline = best_ms(INPUTS["prose (baseline)"])
    print(f"{'input':<28} {'bytes':>7} {'ms':>7} {'vs prose':>9}")
    for name, text in INPUTS.items():
        size = len(text.encode())
        assert size <= COMMENT_MAX_BYTES, name
        ms = best_ms(text)
        print(f"{name:<28} {size:>7} {ms:>7.1f} {ms / baseline:>9.2f}")


if __name__ == "__main__":
    main()
