"""A run killed at any point and started again with the same script resumes where it was."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from test_training_support import perforate, run_config, train

from pai_core.modules import neuron_modules

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    sys.path[:0] = [{root!r}, {here!r}]
    from test_training_support import perforate, run_config, train
    model, tracker = perforate("killme", run_config(n_epochs_to_switch=4, max_dendrites=3), width=5, seed=3,
                               resume=True)
    print("START", tracker.state.num_epochs_run, tracker.state.num_dendrites_added, flush=True)
    def report(epoch, model, restructured, done):
        print("EPOCH", tracker.state.num_epochs_run, tracker.state.num_dendrites_added, int(restructured),
              time.monotonic(), flush=True)
        if tracker.state.num_epochs_run == int(os.environ.get("KILL_AT", -1)):
            os.kill(os.getpid(), signal.SIGKILL)  # as if killed as the next epoch begins
    model, epochs, done, _ = train(model, tracker, max_epochs=400, on_epoch=report)
    print("DONE", done, tracker.state.num_dendrites_added, flush=True)
""")


def _run(script: Path, cwd: Path, kill_when=None, kill_at: int = -1) -> list[list[str]]:
    env = {**os.environ, "MPLBACKEND": "Agg", "KILL_AT": str(kill_at)}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=cwd, stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    deadline = time.monotonic() + 100
    for raw in proc.stdout:
        lines.append(raw.split())
        if kill_when is not None and kill_when(lines[-1]):
            proc.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() < deadline
    proc.wait(timeout=60)
    if kill_when is not None or kill_at >= 0:
        assert proc.returncode == -signal.SIGKILL
    return lines


def test_sigkilled_run_resumes_where_it_was_and_finishes(tmp_path):
    """Resume promise: a SIGKILL at any moment loses at most the epoch in progress, and never a switch."""
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(root=str(ROOT), here=str(HERE)))
    after_switch = []

    def three_epochs_after_the_first_switch(words):
        if words[0] == "EPOCH" and int(words[2]) >= 1:
            after_switch.append(words)
        return len(after_switch) == 4

    first = _run(script, tmp_path, kill_when=three_epochs_after_the_first_switch)
    assert first[0] == ["START", "0", "0"]
    switch_epoch = int(after_switch[0][1])
    assert after_switch[0][3] == "1"  # the first line with a dendrite is the switch epoch
    killed_epoch, killed_dendrites = int(first[-1][1]), int(first[-1][2])
    second = _run(script, tmp_path)
    start = second[0]
    assert start[0] == "START"
    resumed_epoch, resumed_dendrites = int(start[1]), int(start[2])
    assert switch_epoch < resumed_epoch
    assert resumed_epoch >= killed_epoch  # every epoch the killer saw close is on disk (later ones may be too)
    assert resumed_dendrites >= killed_dendrites
    assert second[-1][:2] == ["DONE", "True"]
    epochs_after = [int(words[1]) for words in second if words[0] == "EPOCH"]
    assert epochs_after[0] == resumed_epoch + 1  # the next epoch, not a restart from 0


@pytest.mark.slow
def test_a_run_killed_as_an_epoch_begins_loses_nothing_but_that_epoch(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(root=str(ROOT), here=str(HERE)))
    first = _run(script, tmp_path, kill_at=7)
    assert first[-1][:2] == ["EPOCH", "7"]
    second = _run(script, tmp_path)
    assert second[0][:2] == ["START", "7"]  # exactly where it was: no closed epoch lost
    assert second[1][:2] == ["EPOCH", "8"]
    assert second[-1][:2] == ["DONE", "True"]


def test_checkpoints_every_epoch_logs_deferred_by_the_interval_and_written_by_flush(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from pai_core.checkpoint import load_checkpoint

    model, tracker = perforate("defer", run_config(n_epochs_to_switch=100), width=5, seed=3)
    tracker.log_interval_s = 3600.0
    train(model, tracker, max_epochs=4)
    assert load_checkpoint(tmp_path / "defer" / "latest.pt")[1]["state"]["num_epochs_run"] == 4
    best = load_checkpoint(tmp_path / "defer" / "best_model.pt")[1]["state"]
    assert best["best_epoch"] == tracker.state.best_epoch  # best_model is written with latest, never older
    tracker.writer.flush()  # only what was handed to the writer: the first epoch's logs
    assert len((tmp_path / "defer" / "deferScores.csv").read_text().splitlines()) == 1 + 3 * 1  # header + 3 series
    tracker.flush()  # writes the deferred logs of the 4th epoch
    assert len((tmp_path / "defer" / "deferScores.csv").read_text().splitlines()) == 1 + 3 * 4


def test_a_swap_killed_between_unlink_and_rename_is_recovered(tmp_path):
    from pai_core.checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint, swap_write_bytes

    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"w": torch.ones(2)}, {"epoch": 1})
    complete = path.read_bytes()
    path.rename(tmp_path / "latest.pt.next")  # the state a kill after the unlink leaves
    assert checkpoint_exists(path)
    assert load_checkpoint(path)[1] == {"epoch": 1}
    (tmp_path / "other.pt").write_bytes(complete)
    swap_write_bytes(path, (tmp_path / "other.pt").read_bytes().replace(b"1}", b"2}"))
    assert load_checkpoint(path)[1] == {"epoch": 2}
    assert not (tmp_path / "latest.pt.next").exists()
    (tmp_path / "latest.pt.next").write_bytes(b"torn")  # a kill while writing .next: latest.pt still complete
    assert load_checkpoint(path)[1] == {"epoch": 2}
    swap_write_bytes(path, complete)
    assert load_checkpoint(path)[1] == {"epoch": 1}


def test_upstream_load_system_latest_recipe_restores_model_tracker_and_optimizer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from pai_core import utils_perforatedai as UPA

    config = run_config(n_epochs_to_switch=3, max_dendrites=5)
    model, tracker = perforate("recipe", config, width=5, seed=3)
    seen = {}

    def stop_after_switch(epoch, model, restructured, done):
        if tracker.state.num_dendrites_added >= 1 and epoch >= 12:
            seen.update(epoch=tracker.state.num_epochs_run, dendrites=tracker.state.num_dendrites_added)
            raise KeyboardInterrupt

    try:
        train(model, tracker, max_epochs=200, on_epoch=stop_after_switch,
              scheduler=torch.optim.lr_scheduler.StepLR, sched_args={"step_size": 2, "gamma": 0.5})
    except KeyboardInterrupt:
        pass
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    lr = tracker.optimizer.param_groups[0]["lr"] if tracker.optimizer else None
    tracker.flush()
    model = tracker = None  # abandon the run mid-way, as a killed process would

    fresh, fresh_tracker = perforate("recipe", run_config(n_epochs_to_switch=3, max_dendrites=5), width=5, seed=9)
    assert all(m.num_dendrites == 0 for m in neuron_modules(fresh))
    fresh = UPA.load_system(fresh, "recipe", "latest", True)
    assert fresh_tracker.state.num_epochs_run == seen["epoch"]
    assert [m.num_dendrites for m in neuron_modules(fresh)] == [seen["dendrites"]] * 2
    assert all(torch.equal(weights[k], v) for k, v in fresh.state_dict().items())
    fresh_tracker.set_optimizer(torch.optim.Adam)
    fresh_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)
    optimizer, scheduler = fresh_tracker.setup_optimizer(fresh, {"params": fresh.parameters(), "lr": 0.01},
                                                         {"step_size": 2, "gamma": 0.5})
    if lr is not None:
        assert optimizer.param_groups[0]["lr"] == lr  # the resumed run continues with the same LR
        assert optimizer.state  # Adam moments restored
    model, epochs, done, _ = train(fresh, fresh_tracker, max_epochs=300)
    assert done


def test_load_pretrained_model_keeps_dendrites_and_starts_a_fresh_history(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from pai_core import utils_perforatedai as UPA

    model, tracker = perforate("pre", run_config(switch_mode=0, max_dendrites=5))
    train(model, tracker, max_epochs=3)
    assert [m.num_dendrites for m in neuron_modules(model)] == [3, 3]  # one switch per epoch
    UPA.save_system(model, "pre", "trained")
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    fresh, fresh_tracker = perforate("pre2", run_config(n_epochs_to_switch=3), seed=5)
    fresh = UPA.load_pretrained_model(fresh, "pre", "trained")
    assert [m.num_dendrites for m in neuron_modules(fresh)] == [3, 3]
    assert all(torch.equal(weights[k], v) for k, v in fresh.state_dict().items())
    assert fresh_tracker.state.accuracies == [] and fresh_tracker.state.num_epochs_run == 0
