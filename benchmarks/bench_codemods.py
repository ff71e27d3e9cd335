"""How long `pai perforate` takes on a 1,000-line training script, next to a bare libcst parse + render.

Targets: <= 1 s in total and <= 3x a bare parse+render. Each step is timed in turn, round after round, in one
process, and the best round of each is kept, in CPU time of this process: on a machine shared with other
work, wall time and medians measure the neighbours (compare the ratios, not absolute times).
Run: python benchmarks/bench_codemods.py
"""

from __future__ import annotations

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


def fastest(steps: dict[str, object], repeat: int = 5) -> dict[str, float]:
    """Best CPU seconds of each step, the steps taking turns so that each sees the same machine."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeat):
        for name, fn in steps.items():
            start = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - start)
    return best


def measure(repeat: int = 5) -> dict[str, float]:
    """Best seconds of a bare parse+render, the analysis, and the whole `perforate_source`."""
    source = script()
    assert perforate_source(source, filename="bench.py").changed
    m = fastest({"bare": lambda: cst.parse_module(source).code,
                 "analysis": lambda: analyze_source(source, filename="bench.py"),
                 "total": lambda: perforate_source(source, filename="bench.py")}, repeat)
    return {"lines": len(source.splitlines()), **m, "rules": m["total"] - m["analysis"]}


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
