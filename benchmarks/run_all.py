"""Run every benchmarks/bench_*.py in one process, print one table and write it to benchmarks/RESULTS.md.

Each benchmark module exposes `figures(quick: bool = False) -> list[Figure]` (see benchmarks/common.py) and
runs in a fresh Python process of its own; a module without it, or one that fails, gets a note in the table
instead of stopping the run. Upstream
`perforatedai` figures appear beside ours when that package is importable (`pip install perforatedai --no-deps`).

    python benchmarks/run_all.py            # full: a quarter of an hour on 2 cores; writes benchmarks/RESULTS.md
    python benchmarks/run_all.py --quick    # fewer repeats, a few minutes; writes only with --output
    python benchmarks/run_all.py --only tracker accuracy
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)
os.environ.setdefault("MPLBACKEND", "Agg")

# The order (tracker, train step, accuracy, codemods, MCP), then anything else alphabetically.
ORDER = ["tracker", "dendrite_step", "accuracy", "codemods", "fidelity", "analysis", "mcp", "results", "integrations",
         "inference"]
COLUMNS = ["benchmark", "case", "ours", "compared with", "ratio", "target", "met", "upstream perforatedai"]


def discover(only: list[str] | None = None) -> list[str]:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise SystemExit(f"run_all: no benchmark named {', '.join(unknown)}; choose from {', '.join(names)}")
        names = [n for n in names if n in only]
    return names


def run_one(name: str, quick: bool, timeout_s: float = 1800.0) -> tuple[list[dict], str]:
    """(figures as dicts, note) of one benchmark, run in a fresh Python process.

    A process each, so no benchmark inherits another's global state (torch threads, the process-wide GPA.pc
    of both libraries, imported modules) and a crash or hang costs only its own rows. Its output is
    discarded (the table is the report); stdin is empty, so a library stopping in pdb or input() fails
    instead of waiting; a failure becomes a note.
    """
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "figures.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", name, str(result)]
        try:
            done = subprocess.run(command + (["--quick"] if quick else []), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout_s, cwd=tmp, check=False,
                                  env=dict(os.environ, MPLBACKEND="Agg"))
        except subprocess.TimeoutExpired:
            return [], f"bench_{name}.py took longer than {timeout_s:.0f} s and was stopped"
        if done.returncode != 0 or not result.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return [], f"bench_{name}.py failed (exit {done.returncode}): {last[:300]}"
        data = json.loads(result.read_text())
        return data["figures"], data["note"]


def child(name: str, result: Path, quick: bool) -> int:
    """In the child process: import one benchmark, call its figures(quick), write them as JSON."""
    note, figures = "", []
    try:
        module = importlib.import_module(f"bench_{name}")
        measure = getattr(module, "figures", None)
        if callable(measure):
            figures = [dataclasses.asdict(f) if dataclasses.is_dataclass(f) else dict(vars(f))
                       for f in measure(quick)]
        else:
            note = (f"bench_{name}.py has no `figures(quick)` function yet; run it on its own: "
                    f"python benchmarks/bench_{name}.py")
    except (Exception, SystemExit) as error:  # noqa: BLE001 - report it as a note, never lose the other rows
        trace = traceback.format_exception_only(type(error), error)[-1].strip()
        note = f"bench_{name}.py failed: {trace[:300]}"
    result.write_text(json.dumps({"figures": figures, "note": note}))
    return 0


def cells(figure: dict) -> list[str]:
    ratio = "" if figure.get("ratio") is None else f"{figure['ratio']:.2f}x"
    met = {True: "yes", False: "NO", None: ""}[figure.get("met")]
    return [figure["benchmark"], figure["case"], figure["ours"], figure["reference"], ratio,
            figure.get("target", ""), met, figure.get("upstream", "")]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)
    return "\n".join(lines)


def markdown_table(rows: list[list[str]]) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines.extend("| " + " | ".join(esc(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {"CPU": cpu, "cores": str(os.cpu_count()), "OS": platform.platform(),
            "Python": platform.python_version()}
    for package in ("torch", "libcst", "mcp", "perforatedai"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def load() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


def report(rows: list[list[str]], notes: list[str], info: dict[str, str], quick: bool, started: dt.datetime,
           seconds: float, loads: tuple[str, str]) -> str:
    mode = "quick: fewer repeats and seeds" if quick else "full"
    lines = [
        "# Benchmark results",
        "",
        (f"Generated by `python benchmarks/run_all.py{' --quick' if quick else ''}` on "
         f"{started:%Y-%m-%d %H:%M} UTC ({mode}, {seconds / 60:.1f} min). Every ratio is ours / the reference "
         "named beside it, measured side by side in the same run; \"upstream perforatedai\" is the same "
         "workload run with that package when it is installed, else its reported figure marked \"(reported)\"."),
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        f"Load average (1/5/15 min) at start {loads[0]}, at end {loads[1]}: "
        + ("the machine was shared with other jobs (2 cores), so absolute times are noisy; the ratios, measured "
           "side by side in the same run, are the figures to compare." if _busy(loads)
           else "the machine was quiet apart from this run (it is shared, so single figures can still be noisy)."),
        "",
        markdown_table(rows),
        "",
    ]
    lines += [("Reading the table: \"met\" is blank where the issue sets no target; in the accuracy rows "
               "val/test are accuracies in % (mean ± std over seeds), params/pt is parameters per point of test "
               "accuracy (lower is better) and \"dendrites kept per seed\" is what the tracker ended with."), ""]
    if notes:
        lines += ["Notes:", "", *[f"- {note}" for note in notes], ""]
    lines += [("Each `benchmarks/bench_*.py` also runs on its own and prints more detail "
               "(e.g. `python benchmarks/bench_tracker.py --epochs 60`)."), ""]
    return "\n".join(lines)


def _busy(loads: tuple[str, str]) -> bool:
    """Other jobs ran if the load before we started, or at the end minus our own ~1 process, exceeds half the
    cores."""
    cores = os.cpu_count() or 1
    try:
        start, end = (float(load.split(" / ")[0]) for load in loads)
    except ValueError:
        return True
    return max(start, end - 1.0) > 0.5 * cores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and seeds (a few minutes)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (e.g. tracker accuracy)")
    parser.add_argument("--output", type=Path, default=None,
                        help="Markdown file to write (default benchmarks/RESULTS.md for a full run; a quick run "
                             "writes only when this is given)")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "RESULT_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], Path(args.child[1]), args.quick)
    output = args.output or (None if args.quick or args.only else HERE / "RESULTS.md")
    names = discover(args.only)
    started, start, loads = dt.datetime.now(dt.UTC), time.perf_counter(), [load()]
    rows, notes = [], []
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] bench_{name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        figures, note = run_one(name, args.quick)
        rows.extend(cells(f) for f in figures)
        if note:
            notes.append(note)
            print(f"    {note}", file=sys.stderr)
        print(f"    {len(figures)} figure(s) in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    loads.append(load())
    seconds = time.perf_counter() - start
    print(text_table(rows))
    for note in notes:
        print(f"note: {note}")
    if output is not None:
        output.write_text(report(rows, notes, machine(), args.quick, started, seconds, (loads[0], loads[1])))
        print(f"written: {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
