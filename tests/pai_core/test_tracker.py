"""Tracker API contracts: clear errors for bad input, per-model trackers, optimizer handling, aliases."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_training_support import DATA, evaluate, perforate, run_config, train_epoch
from torch import nn

from pai_core import tracker as tracker_module
from pai_core import tracker_registry
from pai_core.modules import neuron_modules
from pai_core.errors import (
    InvalidScoreError,
    NonFiniteScoreError,
    OptimizerNotRebuiltError,
    TrackerNotReadyError,
    WrappedModelError,
)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return perforate("unit", run_config(n_epochs_to_switch=3))


def test_facade_before_any_model_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(tracker_registry, "_LATEST", [])
    with pytest.raises(TrackerNotReadyError, match=r"perforate_model\(model"):
        tracker_module.pai_tracker.add_validation_score(1.0, nn.Linear(1, 1))


@pytest.mark.parametrize("score", [1, 2.5, torch.tensor(3.0), torch.tensor([4.0]), np.float32(5.0), np.int64(6)])
def test_accepted_score_types(run, score):
    model, tracker = run
    model, restructured, done = tracker.add_validation_score(score, model)
    assert tracker.state.accuracies == [float(score)]
    assert restructured is False and done is False


def test_bad_scores_are_clear_errors(run):
    model, tracker = run
    with pytest.raises(InvalidScoreError, match=r"dict with keys \['acc', 'loss'\].*scores\['acc'\]"):
        tracker.add_validation_score({"acc": 1.0, "loss": 2.0}, model)
    with pytest.raises(InvalidScoreError, match="list of 2 values"):
        tracker.add_validation_score([1.0, 2.0], model)
    with pytest.raises(InvalidScoreError, match=r"tensor of shape \(3,\)"):
        tracker.add_validation_score(torch.ones(3), model)
    with pytest.raises(NonFiniteScoreError, match="diverged"):
        tracker.add_validation_score(float("nan"), model)
    with pytest.raises(NonFiniteScoreError):
        tracker.add_extra_score(float("inf"), "train")
    assert tracker.state.accuracies == [] and tracker.state.num_epochs_run == 0


def test_data_parallel_wrapper_is_refused_but_a_submodule_named_module_is_fine(run, tmp_path):
    model, tracker = run
    with pytest.raises(WrappedModelError, match=r"model\.module"):
        tracker.add_validation_score(1.0, nn.DataParallel(model))

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.module = nn.Linear(64, 4)
            self.fc1 = nn.Linear(4, 10)

        def forward(self, x):
            return self.fc1(self.module(x))

    from pai_core.perforate import perforate_model

    holder = perforate_model(Holder(), save_name="holder", maximizing_score=True, config=run_config())
    holder_tracker = tracker_module.tracker_for(holder)
    assert holder_tracker is not tracker
    holder, _, _ = holder_tracker.add_validation_score(1.0, holder)
    assert holder_tracker.state.accuracies == [1.0]


def test_two_models_have_independent_trackers_and_facade_follows_the_latest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, first_tracker = perforate("one", run_config(n_epochs_to_switch=3))
    second, second_tracker = perforate("two", run_config(n_epochs_to_switch=7), maximizing=False)
    assert tracker_module.pai_tracker.save_name == "two"
    first_tracker.add_validation_score(50.0, first)
    second_tracker.add_validation_score(0.5, second)
    assert first_tracker.state.accuracies == [50.0] and second_tracker.state.accuracies == [0.5]
    assert first_tracker.opt("n_epochs_to_switch") == 3 and second_tracker.opt("n_epochs_to_switch") == 7
    assert tracker_module.tracker_for(first) is first_tracker
    assert tracker_module.tracker_for(nn.DataParallel(second)) is second_tracker
    first_tracker.flush()
    second_tracker.flush()  # files are written by each run's background writer
    assert (tmp_path / "one" / "oneScores.csv").exists() and (tmp_path / "two" / "twoScores.csv").exists()


def test_score_before_any_optimizer_records_an_empty_learning_rate(run):
    model, tracker = run
    tracker.add_validation_score(10.0, model)
    assert tracker.state.training_learning_rates == [None]
    tracker.set_optimizer_instance(torch.optim.SGD(model.parameters(), lr=0.5))
    tracker.add_validation_score(11.0, model)
    assert tracker.state.training_learning_rates == [None, 0.5]


def test_setup_optimizer_filters_frozen_params_and_accepts_groups_and_generators(run):
    model, tracker = run
    with pytest.raises(RuntimeError, match="set_optimizer"):
        tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.1})
    tracker.set_optimizer(torch.optim.SGD)
    model.fc1.main_module.weight.requires_grad_(False)
    optimizer = tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.1})
    assert isinstance(optimizer, torch.optim.SGD)  # no scheduler registered: the optimizer alone
    params = [p for group in optimizer.param_groups for p in group["params"]]
    assert all(p.requires_grad for p in params) and len(params) == sum(p.requires_grad for p in model.parameters())
    groups = [{"params": list(model.fc1.parameters()), "lr": 0.01}, {"params": list(model.fc2.parameters())}]
    tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)
    optimizer, scheduler = tracker.setup_optimizer(model, {"params": groups, "lr": 0.1}, {"step_size": 1})
    assert [g["lr"] for g in optimizer.param_groups] == [0.01, 0.1]
    train_epoch(model, optimizer)  # optimizer.step() before the scheduler's, as in a real loop (else torch warns)
    tracker.add_validation_score(1.0, model)  # the tracker steps the scheduler, not the user
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.001, 0.01])
    assert tracker.member_vars["scheduler_instance"] is scheduler


def test_setup_optimizer_asks_for_the_fast_step_unless_the_user_chose(run):
    model, tracker = run
    tracker.set_optimizer(torch.optim.Adam)
    default = tracker.setup_optimizer(model, {"params": model.parameters()})
    assert default.defaults["fused"] is True and not default.defaults["foreach"]
    chosen = tracker.setup_optimizer(model, {"params": model.parameters(), "foreach": True})
    assert chosen.defaults["foreach"] is True and not chosen.defaults["fused"]
    tracker.set_optimizer(torch.optim.SGD)  # no fused default: the multi-tensor step
    assert tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.1}).defaults["foreach"] is True
    tracker.set_optimizer(torch.optim.AdamW)
    groups = [{"params": [p]} for p in model.parameters()]
    assert tracker.setup_optimizer(model, {"params": groups}).defaults["fused"] is True
    complex_param = torch.nn.Parameter(torch.zeros(2, dtype=torch.complex64))  # no fused kernel: foreach
    assert tracker.setup_optimizer(model, {"params": [complex_param]}).defaults["foreach"] is True
    tracker.set_optimizer(torch.optim.LBFGS)  # neither implementation: nothing added
    defaults = tracker.setup_optimizer(model, {"params": model.parameters()}).defaults
    assert "foreach" not in defaults and "fused" not in defaults


def test_member_vars_and_camel_case_aliases(run):
    model, tracker = run
    tracker.addExtraScore(1.0, "train")
    model, restructured, done = tracker.addValidationScore(2.0, model)
    mv = tracker.member_vars
    assert mv["mode"] == "n" and mv["num_dendrites_added"] == 0 and mv["switch_epochs"] == []
    assert mv["extra_scores"] == {"train": [1.0]} and "optimizer_instance" in dict(mv)


def test_force_switch_restores_best_and_adds_a_dendrite_everywhere(run):
    model, tracker = run
    tracker.set_optimizer_instance(torch.optim.Adam(model.parameters(), lr=0.01))
    train_epoch(model, tracker.optimizer)
    acc, _ = evaluate(model, DATA.x_val, DATA.y_val)
    model, _, _ = tracker.add_validation_score(acc, model)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    train_epoch(model, tracker.optimizer)
    model, restructured, done = tracker.add_validation_score(acc - 5, model, force_switch=True)
    assert restructured is True and done is False and tracker.optimizer is None
    assert [m.num_dendrites for m in neuron_modules(model)] == [1, 1]
    assert torch.equal(model.state_dict()["fc1.main_module.weight"], best["fc1.main_module.weight"])
    assert evaluate(model, DATA.x_val, DATA.y_val)[0] == pytest.approx(acc)  # new dendrite starts silent
    assert tracker.state.switch_epochs == [0] and tracker.state.num_epochs_run == 1


def test_forgetting_to_rebuild_the_optimizer_after_a_restructure_is_a_clear_error(run):
    model, tracker = run
    tracker.set_optimizer_instance(torch.optim.Adam(model.parameters(), lr=0.01))
    train_epoch(model, tracker.optimizer)
    model, restructured, _ = tracker.add_validation_score(50.0, model, force_switch=True)
    assert restructured is True
    with pytest.raises(OptimizerNotRebuiltError, match="restructured.*set_optimizer_instance"):
        tracker.add_validation_score(51.0, model)
    tracker.set_optimizer_instance(torch.optim.Adam(model.parameters(), lr=0.01))  # the fix
    train_epoch(model, tracker.optimizer)
    assert tracker.add_validation_score(51.0, model)[2] is False
