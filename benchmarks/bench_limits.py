"""Script tools on big inputs: seconds and peak memory against script size, to set the server's limits.

A real training script is well under 200 KB; the server refuses scripts over `MAX_SCRIPT_BYTES` and stops a
call after `WORKER_TIMEOUT_S`. This measures each script tool (the codemods function the MCP tool calls) on
realistic scripts of growing size, each call in a fresh process so its peak RSS is its own, and reports the
worst case on the largest accepted input next to the limits.
Run: python benchmarks/bench_limits.py [--sizes 10,100,200,500,1000,2000]  (sizes in KB)
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import Figure
from mcp_server.workspace import MAX_SCRIPT_BYTES, WORKER_MEMORY_MB, WORKER_TIMEOUT_S

BASES = [REPO / "tests" / "mcp_server" / "data" / "scripts" / "train_digits.py",
         REPO / "tests" / "codemods" / "scripts" / "imagenet_main.py"]

# (tool, the codemods call it makes); the perforated copy feeds the capacity-test toggle.
TOOLS = {
    "pai_analyze_script": "from codemods.analysis import analyze_script as f; call = lambda p: f(p)",
    "pai_check_integration": "from codemods.check import check_integration as f; call = lambda p: f(p)",
    "pai_preview_perforation": "from codemods.perforate import perforate_file as f; call = lambda p: f(p)",
    "pai_set_capacity_test": "from codemods.perforate import set_capacity_test as f; call = lambda p: f(p, True)",
    "pai_diagnose_traceback": ("from codemods.diagnosis import diagnose as f; "
                               "call = lambda p: f('RuntimeError: shapes cannot be multiplied', p)"),
}

# Peak resident and peak virtual size from /proc (the worker limit is on address space, so VmPeak counts).
CHILD = """
import json, sys, time
sys.path.insert(0, {repo!r})
{setup}
from pathlib import Path
def status(key):
    line = next(l for l in open("/proc/self/status") if l.startswith(key + ":"))
    return int(line.split()[1]) / 1024
path = Path({path!r})
before = status("VmHWM")
start = time.perf_counter()
call(path)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mb": status("VmHWM"), "imports_mb": before,
                  "address_space_mb": status("VmPeak")}}))
"""


def _definitions(base: Path) -> tuple[str, list[str], str]:
    """(imports and constants, top-level def/class sources except main, the main part) of a real script."""
    text = base.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name != "main"]
    first = min(node.lineno - len(node.decorator_list) for node in defs) - 1
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    head = "".join(lines[:first])
    sources = ["".join(lines[node.lineno - 1 - len(node.decorator_list):node.end_lineno]) for node in defs]
    return head, sources, "".join(lines[main.lineno - 1:])


def make_script(size_bytes: int) -> str:
    """A training script of about `size_bytes`: real scripts' imports and main, and their model classes,
    loops and helpers repeated under new names (as long research scripts accumulate variants)."""
    head, sources, main = _definitions(BASES[0])
    _, more, _ = _definitions(BASES[1])
    body = ["\n\n" + source for source in sources]
    size = len(head) + len(main) + 2 + sum(map(len, body))
    for i in range(size_bytes):
        for source in (*sources, *more):
            name = source.split()[1].split("(")[0].rstrip(":")
            block = "\n\n" + source.replace(name, f"{name}_v{i}", 1)
            if size + len(block) > size_bytes:
                return head + "".join(body) + "\n\n" + main
            body.append(block)
            size += len(block)
    return head + "".join(body) + "\n\n" + main


def measure(tool: str, path: Path) -> dict[str, float]:
    code = CHILD.format(repo=str(REPO), setup=TOOLS[tool], path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def perforated_copy(path: Path) -> Path:
    from codemods.perforate import perforate_file

    target = path.with_name(path.stem + "_perforated.py")
    target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    perforate_file(target, write=True, backup=False)
    return target


def run(sizes_kb: list[int], tools: list[str]) -> dict[tuple[str, int], dict[str, float]]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kb in sizes_kb:
            path = Path(tmp) / f"train_{kb}kb.py"
            path.write_text(make_script(kb * 1024), encoding="utf-8")
            perforated = perforated_copy(path) if "pai_set_capacity_test" in tools else path
            for tool in tools:
                target = perforated if tool == "pai_set_capacity_test" else path
                results[(tool, kb)] = {**measure(tool, target), "bytes": target.stat().st_size}
    return results


def figures(quick: bool = False) -> list[Figure]:
    """Rows for run_all.py: each script tool on the largest accepted script, against the limits."""
    kb = MAX_SCRIPT_BYTES // 1024
    rows = []
    for (tool, _), m in run([kb], list(TOOLS)).items():
        case = f"{tool}, {m['bytes'] / 1024:.0f} KB script (largest accepted)"
        rows.append(Figure("script limits", f"{case}: seconds", f"{m['seconds']:.2f} s", "", None,
                           f"<= {WORKER_TIMEOUT_S:g} s (time limit)", m["seconds"] <= WORKER_TIMEOUT_S))
        rows.append(Figure("script limits", f"{case}: peak memory", f"{m['peak_mb']:.0f} MB",
                           f"after imports {m['imports_mb']:.0f} MB", m["peak_mb"] / m["imports_mb"],
                           f"<= {WORKER_MEMORY_MB} MB (worker limit)", m["peak_mb"] <= WORKER_MEMORY_MB))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,200,500,1000,2000", help="script sizes in KB")
    parser.add_argument("--tools", default=",".join(TOOLS), help="tools to measure")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = run(sizes, args.tools.split(","))
    print(f"limits: {MAX_SCRIPT_BYTES:,} bytes per script, {WORKER_TIMEOUT_S:g} s per call, "
          f"{WORKER_MEMORY_MB} MB address space per worker (machine shared: times are noisy)")
    print(f"{'tool':<26}{'KB':>6}{'seconds':>10}{'peak RSS MB':>13}{'after imports':>15}{'peak VM MB':>12}")
    for (tool, kb), m in results.items():
        mark = "" if m["bytes"] <= MAX_SCRIPT_BYTES else "  (refused by the server)"
        print(f"{tool:<26}{m['bytes'] / 1024:>6.0f}{m['seconds']:>10.2f}{m['peak_mb']:>13.0f}"
              f"{m['imports_mb']:>15.0f}{m['address_space_mb']:>12.0f}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
