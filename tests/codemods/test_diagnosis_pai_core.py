"""Real broken integrations run against pai_core; their tracebacks must get the right diagnosis and fix.

All scripts run in ONE subprocess (one torch import) through a small runner that resets the GPA.pc defaults
between scripts and records each script's console output plus `traceback.format_exc()`. The line marked
`# CAUSE` in a script is where the diagnosis must point when it gets the script too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemods.diagnosis import diagnose

HEADER = """\
import torch
from torch import nn
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
"""

# name -> (body, expected top pattern id, fragments the fix must contain). Dict order = run order: the
# tracker-before-perforate script must run before any other script has created a tracker.
SCENARIOS: dict[str, tuple[str, str, list[str]]] = {
    "tracker_before_perforate": (
        """
        GPA.pai_tracker.set_optimizer(torch.optim.Adam)  # CAUSE
        model = UPA.perforate_model(Net(), save_name="early", making_graphs=False)
        """,
        "tracker-never-initialised",
        ["perforate_model"],
    ),
    "wrong_output_dimensions": (
        """
        GPA.pc.set_output_dimensions([-1, -1, 0])  # CAUSE
        model = UPA.perforate_model(Net(), save_name="dims", making_graphs=False)
        nn.functional.cross_entropy(model(x), y).backward()
        """,
        "output-dims-rank",
        ["[-1, 0]", "model.fc1.set_this_output_dimensions([-1, 0])"],
    ),
    "tuple_output_without_processor": (
        """
        class Seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.GRU(4, 5, batch_first=True)
                self.head = nn.Linear(5, 3)

            def forward(self, seq):
                out, _ = self.rnn(seq)
                return self.head(out[:, -1])


        GPA.pc.append_module_names_to_perforate(["GRU"])  # CAUSE
        model = UPA.perforate_model(Seq(), save_name="gru", making_graphs=False)
        model(torch.randn(2, 3, 4))
        """,
        "tuple-output-needs-processor",
        ["GRU", "processing"],
    ),
    "dataparallel_passed_to_tracker": (
        """
        model = UPA.perforate_model(Net(), save_name="dp", making_graphs=False)
        parallel = nn.DataParallel(model)
        optimizer = torch.optim.Adam(parallel.parameters(), lr=0.01)
        GPA.pai_tracker.set_optimizer_instance(optimizer)
        nn.functional.cross_entropy(parallel(x), y).backward()
        optimizer.step()
        parallel, restructured, done = GPA.pai_tracker.add_validation_score(0.5, parallel)  # CAUSE
        """,
        "dataparallel-passed-to-tracker",
        [".module"],
    ),
    "unknown_setter": (
        """
        GPA.pc.set_n_epoch_to_switch(5)  # CAUSE
        model = UPA.perforate_model(Net(), save_name="typo", making_graphs=False)
        """,
        "unknown-setter-ignored",
        ["set_n_epochs_to_switch"],
    ),
    "bad_module_id": (
        """
        GPA.pc.append_module_ids_to_track(["fc1"])  # CAUSE
        model = UPA.perforate_model(Net(), save_name="ids", making_graphs=False)
        """,
        "module-id-format",
        ["'.fc1'"],
    ),
    "metrics_dict_as_score": (
        """
        model = UPA.perforate_model(Net(), save_name="dict", making_graphs=False)
        GPA.pai_tracker.set_optimizer_instance(torch.optim.Adam(model.parameters(), lr=0.01))
        metrics = {"accuracy": 0.5, "loss": 1.0}
        model, restructured, done = GPA.pai_tracker.add_validation_score(metrics, model)  # CAUSE
        """,
        "score-not-scalar",
        ["metrics['accuracy']", "add_validation_score"],
    ),
    "module_never_used": (
        """
        class Branchy(Net):
            def __init__(self):
                super().__init__()
                self.unused = nn.Linear(6, 6)


        model = UPA.perforate_model(Branchy(), save_name="unused", making_graphs=False)
        GPA.pai_tracker.set_optimizer(torch.optim.Adam)
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        model, restructured, done = GPA.pai_tracker.add_validation_score(0.5, model)  # CAUSE
        """,
        "module-never-initialised",
        ["'.unused'"],
    ),
    "save_name_with_path": (
        """
        model = UPA.perforate_model(Net(), save_name="runs/exp1", making_graphs=False)  # CAUSE
        """,
        "save-name-path",
        ["save_name="],
    ),
    "setup_optimizer_without_class": (
        """
        model = UPA.perforate_model(Net(), save_name="noclass", making_graphs=False)
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})  # CAUSE
        """,
        "set-optimizer-missing",
        ["set_optimizer(torch.optim.Adam)"],
    ),
    "unpack_optimizer_without_scheduler": (
        """
        model = UPA.perforate_model(Net(), save_name="unpack", making_graphs=False)
        GPA.pai_tracker.set_optimizer(torch.optim.Adam)
        optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters()})  # CAUSE
        """,
        "setup-optimizer-unpack",
        ["optimizer = GPA.pai_tracker.setup_optimizer(model, optim_args)"],
    ),
    "nan_score": (
        """
        model = UPA.perforate_model(Net(), save_name="nan", making_graphs=False)
        GPA.pai_tracker.set_optimizer_instance(torch.optim.Adam(model.parameters(), lr=0.01))
        model, restructured, done = GPA.pai_tracker.add_validation_score(float("nan"), model)  # CAUSE
        """,
        "zero-or-nan-correlation",
        ["finite"],
    ),
    "perforate_wrapped_model": (
        """
        model = UPA.perforate_model(nn.DataParallel(Net()), save_name="wrapped", making_graphs=False)  # CAUSE
        """,
        "already-wrapped-for-parallel",
        ["perforate_model(model"],
    ),
    "processor_lists_unpaired": (
        """
        GPA.pc.append_modules_with_processing([nn.GRU])  # CAUSE
        model = UPA.perforate_model(Net(), save_name="pairs", making_graphs=False)
        """,
        "parallel-lists-length",
        ["append_modules_processing_classes"],
    ),
    "optimizer_not_rebuilt": (
        """
        model = UPA.perforate_model(Net(), save_name="norebuild", making_graphs=False)
        GPA.pai_tracker.set_optimizer(torch.optim.Adam)
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
        while True:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            model, restructured, done = GPA.pai_tracker.add_validation_score(0.5, model)  # CAUSE
            if done:
                break
        """,
        "optimizer-not-rebuilt",
        ["setup_optimizer"],
    ),
    "capacity_test_finished": (
        """
        model = UPA.perforate_model(Net(), save_name="capacity", making_graphs=False)  # CAUSE
        GPA.pai_tracker.set_optimizer(torch.optim.Adam)
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
        while True:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            model, restructured, done = GPA.pai_tracker.add_validation_score(0.5, model)
            if done:
                break
            if restructured:
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
        """,
        "capacity-test-succeeded",
        ["set_testing_dendrite_capacity(False)"],
    ),
}

RUNNER = """\
import contextlib, io, json, logging, os, runpy, sys, traceback
import torch
torch.set_num_threads(1)
from pai_core.config import pc
results = {}
root = logging.getLogger()
root.setLevel(logging.INFO)
for path in sys.argv[2:]:
    pc.reset()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    root.addHandler(handler)
    os.chdir(os.path.dirname(path))
    try:
        with contextlib.redirect_stdout(buffer):
            runpy.run_path(path, run_name="__main__")
        failure = ""
    except Exception:
        failure = traceback.format_exc()
    finally:
        root.removeHandler(handler)
    results[path] = buffer.getvalue() + failure
with open(sys.argv[1], "w") as out:
    json.dump(results, out)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    base = tmp_path_factory.mktemp("broken_runs")
    scripts = {}
    for name, (body, _, _) in SCENARIOS.items():
        folder = base / name
        folder.mkdir()
        script = folder / "train.py"
        script.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
        scripts[name] = script
    runner = base / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    output = base / "results.json"
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, str(runner), str(output), *map(str, scripts.values())],
        check=True,
        env=env,
        cwd=base,
        timeout=240,
    )
    logs = json.loads(output.read_text())
    return {name: (script, logs[str(script)]) for name, script in scripts.items()}


def _cause_line(script: Path) -> int:
    lines = script.read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if "# CAUSE" in text)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_real_failure_is_diagnosed(runs: dict[str, tuple[Path, str]], name: str) -> None:
    _, log = runs[name]
    _, expected, fix_fragments = SCENARIOS[name]
    result = diagnose(log)
    assert result.recognised, log
    assert result.top.pattern_id == expected, (log, [f.pattern_id for f in result.findings])
    for fragment in fix_fragments:
        assert fragment in result.top.fix, (fragment, result.top.fix)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_diagnosis_points_at_the_cause_line(runs: dict[str, tuple[Path, str]], name: str) -> None:
    script, log = runs[name]
    result = diagnose(log, script=script)
    assert result.top.pattern_id == SCENARIOS[name][1]
    assert _cause_line(script) in [line.line for line in result.top.lines], result.top.lines


def test_forgotten_optimizer_rebuild_is_caught_by_the_script_facts(runs: dict[str, tuple[Path, str]]) -> None:
    # Upstream only says 'NoneType' ... 'param_groups' here; with the script facts (no rebuild in the
    # restructure branch) the diagnosis must still single out the optimizer.
    script, _ = runs["capacity_test_finished"]
    broken = script.with_name("no_rebuild.py")
    broken.write_text(
        script.read_text()
        .replace(
            'optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})\n'
            "        ",
            "pass\n        ",
        )
        .replace(
            "if restructured:\n        optimizer = GPA.pai_tracker.setup_optimizer("
            'model, {"params": model.parameters(), "lr": 0.01})',
            "if restructured:\n        pass",
        )
    )
    text = "AttributeError: 'NoneType' object has no attribute 'param_groups'"
    result = diagnose(text, script=broken)
    assert result.top.pattern_id == "optimizer-not-rebuilt"
    assert any("does not build a new optimizer" in item for item in result.top.evidence)
