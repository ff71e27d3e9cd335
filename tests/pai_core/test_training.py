"""End-to-end runs on the real digits data: capacity test, dendrite growth beats the same net without
dendrites, loss minimisation, StepLR never blocks completion."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_training_support import DATA, Net, evaluate, perforate, run_config, train

from pai_core.modules import neuron_modules

FIXTURES = str(Path(__file__).parent / "results" / "fixtures" / "upstream_runs")


def test_capacity_test_with_upstream_calling_convention(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from pai_core import globals_perforatedai as GPA
    from pai_core import utils_perforatedai as UPA

    torch.manual_seed(1)
    GPA.pc.set_configuration_confirmed(True)
    GPA.pc.set_module_names_to_perforate(["Linear"])
    GPA.pc.set_output_dimensions([-1, 0])
    GPA.pc.set_testing_dendrite_capacity(True)
    model = UPA.perforate_model(Net(), save_name="cap", maximizing_score=True)
    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)
    make = lambda m: GPA.pai_tracker.setup_optimizer(
        m, {"params": m.parameters(), "lr": 0.01}, {"step_size": 40, "gamma": 0.5})
    optimizer, scheduler = make(model)
    restructures = 0
    for epoch in range(10):
        from test_training_support import train_epoch
        train_epoch(model, optimizer)
        acc, _ = evaluate(model, DATA.x_val, DATA.y_val)
        GPA.pai_tracker.add_extra_score(evaluate(model, DATA.x_train, DATA.y_train)[0], "train")
        GPA.pai_tracker.add_test_score(evaluate(model, DATA.x_test, DATA.y_test)[0], "test")
        model, restructured, done = GPA.pai_tracker.add_validation_score(acc, model)
        if done:
            break
        if restructured:
            restructures += 1
            optimizer, scheduler = make(model)
    assert done and epoch == 3 and restructures == 3
    assert [m.num_dendrites for m in neuron_modules(model)] == [3, 3]
    assert "Successfully added 3 dendrites with GPA.pc.set_testing_dendrite_capacity(True) (default). You may " \
           "now set that to False and run a real experiment." in capsys.readouterr().out
    assert GPA.pc.get_testing_dendrite_capacity() is True
    assert GPA.pc.get_switch_mode() == GPA.pc.DOING_HISTORY  # capacity overrides hit the run copy only
    folder = tmp_path / "cap"
    assert not (folder / "cap_config.json").exists()
    upstream = f"{FIXTURES}/testing/up_testing"
    for suffix in ("Scores.csv", "_best_arch_scores.csv", "switch_epochs.csv", "param_counts.csv",
                   "Best PBScores.csv"):
        ours = pd.read_csv(folder / f"cap{suffix}")
        assert list(ours.columns) == list(pd.read_csv(f"{upstream}{suffix}").columns), suffix
    assert pd.read_csv(folder / "capswitch_epochs.csv")["Switch Epoch"].tolist() == [0, 0, 1, 1, 2, 2]
    assert list(pd.read_csv(folder / "capTimes.csv").columns) == ["Epochs", "Normal Epoch Times", "PAI Epoch Times"]
    assert list(pd.read_csv(folder / "caplearning_rate.csv").columns) == ["Epochs", "learning_rate"]
    assert (folder / "cap.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((folder / "pai_run.json").read_text())
    assert summary["completed"] and summary["completion_reason"] == "capacity_test_passed"
    assert summary["dendrites"] == 3 and summary["switch_epochs"] == [0, 1, 2]
    assert {"beforeSwitch_0.pt", "switch_2.pt", "best_model.pt", "latest.pt"} <= {p.name for p in folder.iterdir()}


def test_dendrites_beat_the_same_net_without_them_and_the_run_completes(tmp_path, monkeypatch):
    """A capacity-limited 64-5-10 MLP: grown dendrites beat the same net trained as long without them."""
    monkeypatch.chdir(tmp_path)
    model, tracker = perforate("grow", run_config(n_epochs_to_switch=10, max_dendrites=4), width=5, seed=3)
    model, epochs, done, scores = train(model, tracker, max_epochs=300)
    assert done, "history mode with finite patience must complete"
    assert tracker.state.num_dendrites_added >= 2 and tracker.state.switch_epochs
    grown_best = max(tracker.state.accuracies)
    assert evaluate(model, DATA.x_val, DATA.y_val)[0] == pytest.approx(grown_best, abs=1e-6)  # best model returned

    base_model, base_tracker = perforate("plain", run_config(switch_mode=3), width=5, seed=3, doing_pai=False)
    base_model, base_epochs, base_done, base_scores = train(base_model, base_tracker, max_epochs=epochs)
    assert base_epochs == epochs and not base_done
    assert all(m.num_dendrites == 0 for m in neuron_modules(base_model))
    assert max(base_scores) + 1.5 < grown_best, (max(base_scores), grown_best)
    files = {p.name for p in (tmp_path / "grow").iterdir()}
    assert "grow_config.json" in files and "beforeSwitch_0.pt" in files


def test_doing_pai_false_is_early_stopping_at_first_plateau(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, tracker = perforate("early", run_config(n_epochs_to_switch=5), width=6, doing_pai=False)
    model, epochs, done, scores = train(model, tracker, max_epochs=300)
    assert done and tracker.state.completion_reason == "early_stopping"
    best_epoch = tracker.state.best_epoch
    assert epochs - 1 - best_epoch >= 5
    assert evaluate(model, DATA.x_val, DATA.y_val)[0] == pytest.approx(scores[best_epoch], abs=1e-6)


def test_loss_minimising_run_adds_dendrites_and_completes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, tracker = perforate("loss", run_config(n_epochs_to_switch=8, max_dendrites=2), maximizing=False)
    model, epochs, done, losses = train(model, tracker, max_epochs=300, maximizing=False)
    assert done and tracker.state.num_dendrites_added >= 1
    best = tracker.state.global_best_validation_score
    assert best == pytest.approx(min(tracker.state.accuracies)) and best < losses[0]
    arch = pd.read_csv(tmp_path / "loss" / "loss_best_arch_scores.csv")
    assert list(arch.columns) == ["Param Counts", "Max Valid Scores", "train"]
    assert arch["Max Valid Scores"].iloc[-1] <= arch["Max Valid Scores"].iloc[0]


def test_steplr_that_never_lowers_the_lr_does_not_block_completion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, tracker = perforate("steplr", run_config(n_epochs_to_switch=6, max_dendrites=3, find_best_lr=True))
    model, epochs, done, _ = train(model, tracker, max_epochs=400, scheduler=torch.optim.lr_scheduler.StepLR,
                                   sched_args={"step_size": 1000, "gamma": 0.5})
    assert done and epochs < 400
    assert tracker.state.num_dendrites_added >= 1
    lrs = pd.read_csv(tmp_path / "steplr" / "steplrlearning_rate.csv")
    assert set(lrs["learning_rate"].dropna()) == {0.01}


def test_reduce_lr_on_plateau_gets_the_score_and_fixed_switch_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = run_config(switch_mode=2, fixed_switch_num=15, max_dendrites=2)
    model, tracker = perforate("fixed", config)
    model, epochs, done, _ = train(model, tracker, max_epochs=200,
                                   scheduler=torch.optim.lr_scheduler.ReduceLROnPlateau,
                                   sched_args={"mode": "max", "patience": 2, "factor": 0.5})
    assert done
    first = pd.read_csv(tmp_path / "fixed" / "fixed_beforeSwitch_0Scores.csv")
    assert first["Validation Scores"].dropna().size == 15  # switched after epoch index 14 (14 % 15 == 14)
    assert tracker.state.switch_epochs[0] <= 14  # ...restoring the best epoch up to then
    lrs = [v for v in tracker.state.training_learning_rates if v is not None]
    assert min(lrs) < 0.01  # the plateau scheduler was stepped with the score and lowered the LR
