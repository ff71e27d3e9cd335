"""The steps of `pai demo`, one function each, so the CLI can narrate them and tests can check each result.

The demo lives in mcp_server because it is the one package allowed to use both codemods (rewrite the script)
and pai_core (train and analyze); both are imported inside the steps so `pai --help` stays instant. Training
runs the rewritten script as a child process (`sys.executable`), exactly as a user would, in the output folder
where the tracker writes its run folder.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

logger = logging.getLogger(__name__)

BASELINE = "baseline_digits.py.txt"  # bundled with this package: a plain PyTorch script, no pai code
SCRIPT = "train_digits.py"  # the copy the demo rewrites in the output folder
MARKER = ".pai_demo"  # marks a folder the demo created, so a re-run may clear it and nothing else
EPOCH_LINE = re.compile(r"^epoch (\d+): train ([\d.]+)% valid ([\d.]+)%")
TEST_LINE = re.compile(r"^test accuracy ([\d.]+)%")


class DemoError(RuntimeError):
    """A step failed; the message says which and what to look at."""


@dataclass(frozen=True)
class DemoPaths:
    out: Path

    @property
    def script(self) -> Path:
        return self.out / SCRIPT

    @property
    def original(self) -> Path:  # perforate_file keeps the untouched copy here
        return self.out / f"{SCRIPT}.orig"

    @property
    def save_name(self) -> str:  # the codemod's default: <script stem>_dendritic
        return f"{Path(SCRIPT).stem}_dendritic"

    @property
    def run_folder(self) -> Path:
        return self.out / self.save_name

    @property
    def capacity_folder(self) -> Path:
        return self.out / f"{self.save_name}_capacity_test"

    @property
    def plot(self) -> Path:
        return self.run_folder / f"{self.save_name}_analysis.png"


@dataclass(frozen=True)
class TrainingRun:
    log: Path
    seconds: float
    epochs: int  # epoch lines the script printed (rewound epochs included)
    best_valid: float | None
    test_accuracy: float | None  # the script's final test accuracy (on the best model pai_core restored)
    output_tail: str


def baseline_source() -> str:
    return resources.files(__package__).joinpath(BASELINE).read_text(encoding="utf-8")


def prepare(out: str | Path) -> DemoPaths:
    """Create (or clear a previous demo's) output folder and copy the bundled baseline script into it."""
    folder = Path(out).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise DemoError(f"{folder} is a file; pass a folder with --out.")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise DemoError(f"{folder} already holds files the demo did not write; pass an empty or new folder "
                            "with --out.")
        shutil.rmtree(folder)  # our own previous output only
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("written by `pai demo`; the demo clears this folder when run again\n")
    paths = DemoPaths(folder)
    paths.script.write_text(baseline_source(), encoding="utf-8")
    return paths


def analyze(paths: DemoPaths):
    """Static analysis of the baseline (codemods.analysis.ScriptReport)."""
    from codemods.analysis import ScriptError, analyze_script

    try:
        return analyze_script(paths.script)
    except ScriptError as error:
        raise DemoError(f"The analysis of {paths.script} failed: {error}") from None


def perforate(paths: DemoPaths):
    """Rewrite the copy to train with dendrites (the test set is recorded every epoch too); keeps `.orig`."""
    from codemods.perforate import perforate_file

    result = perforate_file(paths.script, write=True, extra_scores=True)
    if result.refused or not result.written:
        reasons = "; ".join(f.message for f in result.findings) or "nothing was changed"
        raise DemoError(f"The codemod did not rewrite {paths.script}: {reasons}")
    _check_compiles(paths.script)
    return result


def capacity_test_off(paths: DemoPaths):
    """After a successful capacity test, switch it off so the next run is the real experiment."""
    from codemods.perforate import set_capacity_test

    result = set_capacity_test(paths.script, False, write=True)
    _check_compiles(paths.script)
    return result


def train(paths: DemoPaths, log_name: str, description: str, timeout_s: float = 900.0) -> TrainingRun:
    """Run the rewritten script as a user would, with a progress bar fed by its epoch lines."""
    from tqdm import tqdm

    log = paths.out / log_name
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_project_root(), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    epochs, best, test, lines = 0, None, None, []
    with log.open("w", encoding="utf-8") as handle, tqdm(desc=description, unit=" epoch", file=sys.stderr,
                                                         leave=True, dynamic_ncols=True) as bar:
        child = subprocess.Popen([sys.executable, paths.script.name], cwd=paths.out, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        watchdog = threading.Timer(timeout_s, child.kill)
        watchdog.start()
        try:
            assert child.stdout is not None
            for line in child.stdout:
                handle.write(line)
                lines.append(line)
                if match := EPOCH_LINE.match(line):
                    epochs += 1
                    valid = float(match.group(3))
                    best = valid if best is None else max(best, valid)
                    bar.update(1)
                    bar.set_postfix_str(f"valid {valid:.1f}% (best {best:.1f}%)", refresh=False)
                elif match := TEST_LINE.match(line):
                    test = float(match.group(1))
            child.wait()
        finally:
            watchdog.cancel()
            if child.poll() is None:  # interrupted (Ctrl-C): never leave the child training
                child.kill()
                child.wait()
    if time.perf_counter() - start >= timeout_s:
        raise DemoError(f"Training took longer than {timeout_s:.0f} s and was stopped; its log is {log}.")
    tail = "".join(lines[-15:])
    if child.returncode != 0:
        raise DemoError(f"Training exited with status {child.returncode}; the log is {log}. Ask for the cause "
                        f"and the fix with: pai diagnose --script {paths.script} {log}\n{tail}")
    return TrainingRun(log, time.perf_counter() - start, epochs, best, test, tail)


def set_capacity_test_aside(paths: DemoPaths) -> Path:
    """Move the capacity test's run folder aside so the real run starts a fresh folder."""
    if not paths.run_folder.is_dir():
        raise DemoError(f"The capacity test wrote no run folder {paths.run_folder}.")
    shutil.rmtree(paths.capacity_folder, ignore_errors=True)
    paths.run_folder.rename(paths.capacity_folder)
    return paths.capacity_folder


def analyze_results(folder: Path, plot: Path | None):
    """pai_core.results.RunReport of a run folder, drawing the summary plot when `plot` is given."""
    from pai_core.results import ResultsError, analyze_run

    try:
        return analyze_run(folder, plot=plot)
    except ResultsError as error:
        raise DemoError(f"The analysis of the run folder {folder} failed: {error}") from None


def _check_compiles(script: Path) -> None:
    try:
        compile(script.read_text(encoding="utf-8"), str(script), "exec")
    except SyntaxError as error:  # a codemod bug: say so rather than training a broken file
        raise DemoError(f"The rewritten {script} does not compile ({error}); please report this.") from None


def _project_root() -> str | None:
    """The folder holding pai_core, so the child imports the same pai_core even from an uninstalled tree."""
    spec = importlib.util.find_spec("pai_core")
    if spec is None or spec.origin is None:
        return None
    return str(Path(spec.origin).resolve().parents[1])
