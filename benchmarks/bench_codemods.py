"""How long `pai perforate` takes on a 1,000-line training script, next to a bare libcst parse + render.

Targets: <= 1 s in total and <= 3x a bare parse+render. Prints the median of several runs of each step, side
by side in one process (numbers are noisy on a busy machine: compare the ratios, not absolute times).
Run: python benchmarks/bench_codemods.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libcst as cst

from benchmarks.common import Figure
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


def measure(repeat: int = 5) -> dict[str, float]:
    """Median seconds of a bare parse+render, the analysis, and the whole `perforate_source`."""
    source = script()
    assert perforate_source(source, filename="bench.py").changed
    bare = median(lambda: cst.parse_module(source).code, repeat)
    analysis = median(lambda: analyze_source(source, filename="bench.py"), repeat)
    total = median(lambda: perforate_source(source, filename="bench.py"), repeat)
    return {"lines": len(source.splitlines()), "bare": bare, "analysis": analysis, "total": total,
            "rules": total - analysis}


def figures(quick: bool = False) -> list[Figure]:
    """Row for benchmarks/run_all.py: `pai perforate` / a bare libcst parse + render."""
    m = measure(3 if quick else 7)
    return [Figure("codemod/analysis", f"perforate_source, {m['lines']:,}-line script",
                   f"{m['total'] * 1000:.0f} ms", f"bare libcst parse+render {m['bare'] * 1000:.0f} ms",
                   m["total"] / m["bare"], "<= 1 s and <= 3x", m["total"] <= 1 and m["total"] <= 3 * m["bare"],
                   "no equivalent")]


def main() -> None:
    m = measure()
    bare, analysis, rules, total = m["bare"], m["analysis"], m["rules"], m["total"]
    print(f"script: {m['lines']} lines")
    print(f"{'step':<34}{'seconds':>10}{'x parse+render':>16}")
    for name, value in (("bare libcst parse + render", bare), ("static analysis (codemods.analysis)", analysis),
                        ("rules (perforate minus analysis)", rules), ("pai perforate total", total)):
        print(f"{name:<34}{value:>10.3f}{value / bare:>16.1f}")
    print(f"targets: total <= 1 s -> {'met' if total <= 1 else 'MISSED'}; "
          f"total <= 3x parse+render -> {'met' if total <= 3 * bare else 'MISSED'} "
          f"(rules alone: {rules / bare:.1f}x)")


if __name__ == "__main__":
    main()
