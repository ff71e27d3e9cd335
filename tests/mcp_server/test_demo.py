"""`pai demo` really analyzes, rewrites, trains (a child Python process) and analyzes the bundled digits script."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_server.demo import story
from mcp_server.cli import run_command

demo_main = functools.partial(run_command, "demo")

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_demo(out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "mcp_server.cli", "demo", "--out", str(out), *extra],
                          cwd=out.parent, env=env, capture_output=True, text=True, timeout=600, check=False)


def assert_rewritten_and_analyzed(out: Path, stdout: str) -> None:
    script = out / "train_digits.py"
    rewritten = script.read_text()
    compile(rewritten, str(script), "exec")
    assert "UPA.perforate_model(model" in rewritten and "add_validation_score(val_acc, model)" in rewritten
    assert (out / "train_digits.py.orig").read_text() == story.baseline_source()
    run = out / "train_digits_dendritic"
    for name in ("Scores.csv", "param_counts.csv", "switch_epochs.csv", "_best_arch_scores.csv"):
        assert (run / f"train_digits_dendritic{name}").is_file(), name
    assert (run / "train_digits_dendritic_analysis.png").read_bytes()[:8] == PNG_MAGIC
    assert "Findings:" in stdout and "dendrites  params  best valid" in stdout
    assert "claude mcp add pai -- pai-mcp" in stdout and "pai perforate YOUR_SCRIPT.py" in stdout


def test_bundled_baseline_is_plain_pytorch_and_trains(tmp_path):
    source = story.baseline_source()
    assert "pai_core" not in source and "perforatedai" not in source
    (tmp_path / "baseline.py").write_text(source)
    done = subprocess.run([sys.executable, "baseline.py", "--epochs", "2"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"), check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "epoch 1: train" in done.stdout and "test accuracy" in done.stdout


def test_quick_demo_rewrites_trains_and_analyzes(tmp_path):
    out = tmp_path / "demo"
    done = run_demo(out, "--quick")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert_rewritten_and_analyzed(out, done.stdout)
    assert "set_testing_dendrite_capacity(True)" in (out / "train_digits.py").read_text()  # quick stops there
    assert "Successfully added 3 dendrites" in (out / "capacity_test.log").read_text()
    assert "status: capacity_test" in done.stdout
    assert "  --- a/demo/train_digits.py\n  +++ b/demo/train_digits.py\n" in done.stdout
    assert "capacity test" in done.stderr  # the tqdm progress bar


def test_demo_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert demo_main(["--out", str(tmp_path), "--quick"]) == 3  # refused: nothing of the user's touched
    assert "already holds files the demo did not write" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_prepare_replaces_a_previous_demo_folder(tmp_path):
    paths = story.prepare(tmp_path / "demo")
    (paths.out / "train_digits.py.orig").write_text("stale")
    again = story.prepare(paths.out)
    assert not again.original.exists() and again.script.read_text() == story.baseline_source()


@pytest.mark.slow
def test_full_demo_trains_until_complete(tmp_path):
    out = tmp_path / "demo"
    done = run_demo(out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert_rewritten_and_analyzed(out, done.stdout)
    assert "set_testing_dendrite_capacity(False)" in (out / "train_digits.py").read_text()
    assert (out / "train_digits_dendritic_capacity_test").is_dir()
    assert "training complete:" in done.stdout and "status: completed" in done.stdout
    assert "test accuracy" in (out / "training.log").read_text()
