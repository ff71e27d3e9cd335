"""How often `pai diagnose` ranks the true cause first on real failures of perforated scripts.

The cases are the broken scripts of tests/codemods/diagnosis_cases (each with its true cause in cases.json),
run on pai_core in one process; their output is diagnosed without and with the script. Target: >= 90% top-1.

    python benchmarks/bench_diagnosis.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure  # noqa: E402
from codemods.diagnosis import diagnose  # noqa: E402

CASES_DIR = ROOT / "tests" / "codemods" / "diagnosis_cases"


def run_cases(base: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (script copy, its output, the true cause read from the log, the one the script shows)."""
    cases = {k: v for k, v in json.loads((CASES_DIR / "cases.json").read_text()).items() if not k.startswith("_")}
    scripts = {}
    for name in cases:
        (base / name).mkdir()
        scripts[name] = base / name / "train.py"
        shutil.copyfile(CASES_DIR / f"{name}.py", scripts[name])
    out = base / "results.json"
    subprocess.run([sys.executable, str(CASES_DIR / "run_cases.py"), str(out), *map(str, scripts.values())],
                   check=True, cwd=base, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
    logs = json.loads(out.read_text())
    return {name: (scripts[name], logs[str(scripts[name])], cases[name]["expected"],
                   cases[name].get("expected_with_script", cases[name]["expected"])) for name in cases}


def figures(quick: bool = False) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_cases(Path(tmp))
        rows = []
        for label, with_script in (("log only", False), ("log + script", True)):
            start = time.perf_counter()
            right = 0
            for script, log, from_log, from_script in runs.values():
                result = diagnose(log, script=script if with_script else None)
                expected = from_script if with_script else from_log
                right += bool(result.recognised and result.top.pattern_id == expected)
            seconds = (time.perf_counter() - start) / len(runs)
            share = right / len(runs)
            rows.append(Figure("diagnosis top-1", f"{len(runs)} real pai_core failures, {label}",
                               f"{right}/{len(runs)} = {share:.0%} ({seconds * 1000:.0f} ms each)",
                               "the true cause", None, ">= 90%", share >= 0.9))
        return rows


def main() -> None:
    for row in figures():
        print(f"{row.benchmark:18} {row.case:45} {row.ours:30} target {row.target} met={row.met}")


if __name__ == "__main__":
    main()
