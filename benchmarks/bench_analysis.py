"""Time `analyze_source` on a realistic ~1,000-line training script beside a bare libcst parse.

Run: python benchmarks/bench_analysis.py   (prints lines, parse ms, analysis ms and the ratio)
Target: well under a second for 1,000 lines. Figures are noisy on a shared machine; take the best of N.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libcst as cst

from benchmarks.common import Figure
from codemods.analysis import analyze_source

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "codemods" / "scripts" / "imagenet_main.py"

BLOCK = """

class Block{i}(nn.Module):
    def __init__(self, channels={w}, dropout=0.1):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.drop(out)
        return out + x


def helper_{i}(values, scale={w}):
    total = 0.0
    for k, v in enumerate(values):
        if k % 2 == 0:
            total += v * scale
        else:
            total -= v / (scale + 1)
    return {{"total": total, "count": len(values), "name": "helper_{i}"}}
"""


def realistic_script(lines: int = 1000) -> str:
    """The imagenet fixture plus residual blocks and helpers until the script has about `lines` lines."""
    text = FIXTURE.read_text().replace(
        "import torch.nn as nn\n", "import torch.nn as nn\nimport torch.nn.functional as F\n"
    )
    text = text.replace("if __name__ == '__main__':\n    main()\n", "")
    i = 0
    while text.count("\n") < lines:
        text += BLOCK.format(i=i, w=16 + i)
        i += 1
    return text


def best_of(fn, repeat: int = 5, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def measure(repeat: int = 5) -> dict:
    """Best-of-`repeat` wall and CPU seconds of a bare parse and of the full analysis, plus the report."""
    source = realistic_script(1000)
    cst.parse_module(source)  # warm imports
    analyze_source(source, "bench.py")
    return {
        "lines": source.count(chr(10)),
        "parse": best_of(lambda: cst.parse_module(source), repeat),
        "analysis": best_of(lambda: analyze_source(source, "bench.py"), repeat),
        # CPU time of this process: less sensitive than wall time to other jobs on a shared machine
        "parse_cpu": best_of(lambda: cst.parse_module(source), repeat, clock=time.process_time),
        "analysis_cpu": best_of(lambda: analyze_source(source, "bench.py"), repeat, clock=time.process_time),
        "report": analyze_source(source, "bench.py"),
    }


def figures(quick: bool = False) -> list[Figure]:
    """Row for benchmarks/run_all.py: full analysis / bare libcst parse (CPU time, best of N)."""
    m = measure(3 if quick else 7)
    ratio = m["analysis_cpu"] / m["parse_cpu"]
    return [Figure("codemod/analysis", f"analyze_source, {m['lines']:,}-line script (CPU)",
                   f"{m['analysis_cpu'] * 1000:.0f} ms", f"bare libcst parse {m['parse_cpu'] * 1000:.0f} ms",
                   ratio, "<= 300 ms and <= 5x", m["analysis_cpu"] <= 0.3 and ratio <= 5, "no equivalent")]


def main() -> None:
    m = measure()
    parse, analysis, parse_cpu, analysis_cpu, report = (m[k] for k in ("parse", "analysis", "parse_cpu",
                                                                      "analysis_cpu", "report"))
    print(
        f"script: {m['lines']} lines, {len(report.model.classes)} model classes, "
        f"architecture {report.model.architecture}"
    )
    print(f"{'':18}  {'wall':>9}  {'cpu':>9}")
    print(f"libcst parse only : {parse * 1000:7.1f} ms  {parse_cpu * 1000:7.1f} ms")
    print(f"full analysis     : {analysis * 1000:7.1f} ms  {analysis_cpu * 1000:7.1f} ms"
          "  (parse + one span-recording pass + report)")
    print(f"ratio             : {analysis / parse:7.2f}x    {analysis_cpu / parse_cpu:7.2f}x  parse time")
    ok = min(analysis, analysis_cpu) <= 0.3 and min(analysis / parse, analysis_cpu / parse_cpu) <= 5
    print(f"target            : <= 300 ms and <= 5x parse -> {'OK' if ok else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
