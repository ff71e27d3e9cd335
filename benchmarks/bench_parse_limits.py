"""What libcst 1.9's parser does on pathological scripts, beside what the codemods' CPython gate does with them.

Run: python benchmarks/bench_parse_limits.py [--quick]
Each shape is parsed by bare `libcst.parse_module` in a child process (so a crash is a signal, not the end of
this run; a child past the time limit is stopped), then by `codemods.analysis.source.parse_source` here. The
gate must refuse every shape libcst crashes or stalls on, in milliseconds, and cost little on a real script.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libcst as cst

from benchmarks.common import Figure
from codemods.analysis import ScriptError
from codemods.analysis.source import parse_source

SCRIPT = Path(__file__).resolve().parents[1] / "tests" / "codemods" / "scripts" / "imagenet_main.py"

SHAPES = {
    "3,000 nested [": "x = " + "[" * 3000 + "]" * 3000 + "\n",
    "3,000 nested (": "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
    "3,000 nested f(": "x = " + "f(" * 3000 + ")" * 3000 + "\n",
    "10,000-term `and` chain": "x = " + " and ".join(["a"] * 10_000) + "\n",
    "10,000-term `+` chain": "x = " + "+".join(["1"] * 10_000) + "\n",
    "2,000 chained .b() calls": "x = a" + ".b()" * 2000 + "\n",
    "3,000 unary minus": "x = " + "-" * 3000 + "1\n",
    "1,000-branch elif": "if a:\n    pass\n" + "elif a:\n    pass\n" * 1000,
}
QUICK = ("3,000 nested [", "10,000-term `and` chain", "2,000 chained .b() calls")

CHILD = """
import resource, sys, time
import libcst
source = sys.stdin.read()
start = time.perf_counter()
try:
    libcst.parse_module(source)
    outcome = "parsed"
except Exception as error:
    outcome = type(error).__name__
print(outcome, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def libcst_alone(source: str, timeout_s: float) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", CHILD], input=source, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"still parsing after {timeout_s:.0f} s (stopped)"
    if done.returncode < 0:
        return f"killed by {signal.Signals(-done.returncode).name}"
    outcome, seconds, peak_mb = done.stdout.split()
    return f"{outcome} in {float(seconds):.1f} s, peak {peak_mb} MB"


def gate(source: str) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        parse_source(source, "shape.py")
        verdict = "accepted"
    except ScriptError as error:
        verdict = "refused: " + str(error).split(": ", 2)[1][:40]
    return time.perf_counter() - start, verdict


def figures(quick: bool = False) -> list[Figure]:
    rows = []
    timeout_s = 20.0 if quick else 60.0
    for name in QUICK if quick else SHAPES:
        source = SHAPES[name]
        seconds, verdict = gate(source)
        rows.append(Figure("parse gate", name, f"{seconds * 1e3:.0f} ms, {verdict}",
                           f"libcst alone: {libcst_alone(source, timeout_s)}", None,
                           target="refused in < 1 s", met=verdict.startswith("refused") and seconds < 1))
    real = SCRIPT.read_text(encoding="utf-8")
    best_gate = best_libcst = float("inf")
    for _ in range(3 if quick else 7):
        best_gate = min(best_gate, gate(real)[0])
        start = time.perf_counter()
        cst.parse_module(real)
        best_libcst = min(best_libcst, time.perf_counter() - start)
    lines = real.count("\n")
    rows.append(Figure("parse gate", f"real {lines}-line script: CPython gate + libcst parse", f"{best_gate * 1e3:.0f} ms",
                       f"bare libcst parse {best_libcst * 1e3:.0f} ms", best_gate / best_libcst, target="<= 1.5x",
                       met=best_gate / best_libcst <= 1.5))
    return rows


def main() -> None:
    for row in figures(quick="--quick" in sys.argv):
        mark = "" if row.met is None else (" [met]" if row.met else " [NOT MET]")
        ratio = f" ratio {row.ratio:.2f}x" if row.ratio is not None else ""
        print(f"{row.case:>42}: {row.ours} | {row.reference}{ratio}{mark}")


if __name__ == "__main__":
    main()
