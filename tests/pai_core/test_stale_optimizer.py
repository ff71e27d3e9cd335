"""An optimizer that does not train the dendrites a restructure added is caught within an epoch or two.

Real digits MLPs train through real switches; the stale variants keep the optimizer built over
model.parameters() before the restructure, and the correct variants (the README's loop, a hand-built optimizer
never registered, a registered instance, zero_grad(set_to_none) after the step) must run to completion.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_training_support import DATA, evaluate, perforate, run_config, train_epoch

from pai_core.errors import OptimizerNotRebuiltError


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _loop(model, tracker, rebuild, *, max_epochs=40, step=train_epoch):
    """The user's loop: `rebuild(model)` returns the optimizer to use after a restructure (or the old one)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    epoch, switches = 0, []
    for epoch in range(1, max_epochs + 1):
        step(model, optimizer)
        model, restructured, done = tracker.add_validation_score(evaluate(model, DATA.x_val, DATA.y_val)[0], model)
        if done:
            return epoch, switches, True
        if restructured:
            switches.append(epoch)
            optimizer = rebuild(model, optimizer)
    return epoch, switches, False


def _keep(model, optimizer):
    return optimizer


def test_an_optimizer_kept_from_before_the_restructure_is_caught_at_the_next_epoch():
    model, tracker = perforate("stale", run_config(n_epochs_to_switch=3, max_dendrites=3))
    seen = []
    with pytest.raises(OptimizerNotRebuiltError, match=r"new parameters .*dendrites_to_top.*did not change") as err:
        _loop(model, tracker, lambda m, o: seen.append(tracker.state.num_epochs_run) or o)
    assert len(seen) == 1  # raised at the first score after the first restructure
    assert tracker.state.num_epochs_run == seen[0]  # and that score was not recorded
    assert "setup_optimizer" in str(err.value)


def test_the_capacity_test_with_a_stale_optimizer_fails_in_its_second_epoch():
    model, tracker = perforate("stale_capacity", run_config(testing_dendrite_capacity=True))
    with pytest.raises(OptimizerNotRebuiltError):
        _loop(model, tracker, _keep)
    assert tracker.state.num_dendrites_added == 1 and len(tracker.state.accuracies) == 1


def test_re_registering_the_stale_instance_is_caught_too():
    model, tracker = perforate("stale_registered", run_config(testing_dendrite_capacity=True))

    def register_old(m, optimizer):
        tracker.set_optimizer_instance(optimizer)
        return optimizer

    with pytest.raises(OptimizerNotRebuiltError, match="did not change"):
        _loop(model, tracker, register_old)


def _hand_built(model, optimizer):
    return torch.optim.Adam(model.parameters(), lr=0.01)  # never registered with the tracker


def _registered(tracker):
    def rebuild(model, optimizer):
        new = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        tracker.set_optimizer_instance(new)
        return new
    return rebuild


def _zero_grad_after_step(model, optimizer):
    model.train()
    for i in range(0, 1200, 100):
        F.cross_entropy(model(DATA.x_train[i:i + 100]), DATA.y_train[i:i + 100]).backward()
        optimizer.step()
        model.zero_grad(set_to_none=True)


@pytest.mark.parametrize("variant", ["hand_built", "registered", "zero_grad_after_step"])
def test_correct_scripts_run_the_capacity_test_to_completion(variant):
    model, tracker = perforate(f"ok_{variant}", run_config(testing_dendrite_capacity=True))
    rebuild = _registered(tracker) if variant == "registered" else _hand_built
    step = _zero_grad_after_step if variant == "zero_grad_after_step" else train_epoch
    epoch, switches, done = _loop(model, tracker, rebuild, step=step)
    assert done and switches == [1, 2, 3] and tracker.state.num_dendrites_added == 3


def test_the_readme_loop_with_setup_optimizer_is_never_flagged():
    from test_training_support import train

    model, tracker = perforate("ok_setup", run_config(n_epochs_to_switch=3, max_dendrites=2))
    model, epochs, done, _ = train(model, tracker, max_epochs=60)
    assert done and tracker.state.num_dendrites_added >= 1


def test_the_watch_costs_nothing_once_it_has_judged():
    model, tracker = perforate("hooks", run_config(testing_dendrite_capacity=True))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_epoch(model, optimizer)
    model, restructured, _ = tracker.add_validation_score(50.0, model)
    assert restructured and tracker._watch is not None and tracker._watch.handles
    new_w = model.fc1.dendrites_to_top
    assert new_w._post_accumulate_grad_hooks
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_epoch(model, optimizer)
    tracker.add_validation_score(51.0, model)  # judged (and a new watch started by the capacity switch)
    assert not new_w._post_accumulate_grad_hooks
