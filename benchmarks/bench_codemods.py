"""How long `pai perforate` takes on a 1,000-line training script, next to a bare libcst parse + render.

Targets: <= 1 s in total and <= 3x a bare parse+render. Prints the median of several runs of each step, side
by side in one process (numbers are noisy on a busy machine: compare the ratios, not absolute times).
Run: python benchmarks/bench_codemods.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import libcst as cst

from codemods.analysis import analyze_source
from codemods.perforate import perforate_source

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "codemods" / "fixtures" / "mnist_cnn.in.py"
HELPER = '''

def augment_{i}(batch, scale={i}):
    """Helper number {i}: a realistic block of data-processing code."""
    out = []
    for item in batch:
        if item is None:
            continue
        value = item * scale + {i}
        out.append(value if value > 0 else -value)
    return [v / (1 + len(out)) for v in out]
'''


def script(lines: int = 1000) -> str:
    base = FIXTURE.read_text()
    head, tail = base.split("\n\ndef main():", 1)
    helpers, i = [], 0
    while len((head + "".join(helpers) + tail).splitlines()) < lines - 40:
        helpers.append(HELPER.format(i=i))
        i += 1
    return head + "".join(helpers) + "\n\ndef main():" + tail


def median(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    source = script()
    n = len(source.splitlines())
    assert perforate_source(source, filename="bench.py").changed
    bare = median(lambda: cst.parse_module(source).code)
    analysis = median(lambda: analyze_source(source, filename="bench.py"))
    total = median(lambda: perforate_source(source, filename="bench.py"))
    rules = total - analysis
    print(f"script: {n} lines")
    print(f"{'step':<34}{'seconds':>10}{'x parse+render':>16}")
    for name, value in (("bare libcst parse + render", bare), ("static analysis (codemods.analysis)", analysis),
                        ("rules (perforate minus analysis)", rules), ("pai perforate total", total)):
        print(f"{name:<34}{value:>10.3f}{value / bare:>16.1f}")
    print(f"targets: total <= 1 s -> {'met' if total <= 1 else 'MISSED'}; "
          f"total <= 3x parse+render -> {'met' if total <= 3 * bare else 'MISSED'} "
          f"(rules alone: {rules / bare:.1f}x)")


if __name__ == "__main__":
    main()
