"""The decision policy on its own: score sequences in, actions out, no model and no torch."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from pai_core import switch_policy as sp
from pai_core.errors import NonFiniteScoreError
from pai_core.run_state import RunState
from pai_core.scores import as_score
from pai_core.switch_policy import Action, Policy

C, G, R = "continue", "grow", "retry"
REAL_RUN = dict(testing_dendrite_capacity=False, retain_all_dendrites=False)  # no capacity-test overrides
CAPACITY = dict(switch_mode=sp.DOING_SWITCH_EVERY_TIME, testing_dendrite_capacity=True, retain_all_dendrites=True,
                max_dendrite_tries=1000, max_dendrites=1000)  # what attach_tracker sets for a capacity test


def simulate(scores, *, maximizing=True, doing_pai=True, force_at=(), **options):
    """The tracker's epoch, minus the model: observe, keep the best state, decide, carry out, close."""
    rules = Policy.of(**options)
    state, best, params, actions = RunState(maximizing_score=maximizing, doing_pai=doing_pai), None, 100, []
    for epoch, score in enumerate(scores):
        if sp.observe(state, score, rules):
            best = state.copy()
        decision = sp.decide(state, rules, force_switch=epoch in force_at)
        action = decision.action
        if action.restores_best:
            state = sp.rewound(state, best.copy())
        if action.completes:
            sp.complete(state, action)
        elif action.restructures:
            sp.before_growth(state, action)
            params += 10
            sp.grown(state, rules, params)
            if rules.retain_all_dendrites:
                best = state.copy()
        sp.close_epoch(state, action)
        actions.append(action.value)
        if action.completes:
            break
    return actions, state


CASES = {
    "no switch ever": (dict(switch_mode=sp.DOING_NO_SWITCH, **REAL_RUN), [1, 2, 3, 3, 3, 3, 3, 3],
                       [C] * 8, dict(num_dendrites_added=0, completed=False)),
    "capacity test: three dendrites then done": (CAPACITY, [1, 1, 1, 1], [G, G, G, "capacity_test_passed"],
                                                 dict(num_dendrites_added=3, completion_reason="capacity_test_passed")),
    "history: grow, grow, retry, then no improvement": (
        dict(n_epochs_to_switch=2, **REAL_RUN), [1, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3, 3, 3],
        [C, C, C, C, G, C, C, G, C, C, R, C, C, "no_improvement"],
        dict(num_dendrites_added=1, completion_reason="no_improvement", accuracies=[1, 2, 3, 4],
             global_best_validation_score=4, switch_epochs=[2])),
    "history: max dendrites ends with the best model": (
        dict(n_epochs_to_switch=1, max_dendrites=1, **REAL_RUN), [1, 2, 2, 3, 3], [C, C, G, C, "max_dendrites"],
        dict(num_dendrites_added=1, accuracies=[1, 2, 3], completion_reason="max_dendrites")),
    "doing_pai=False is early stopping": (
        dict(n_epochs_to_switch=1, **REAL_RUN), [1, 2, 2], [C, C, "early_stopping"],
        dict(num_dendrites_added=0, accuracies=[1, 2], completion_reason="early_stopping", doing_pai=False)),
    "fixed switch every third epoch": (
        dict(switch_mode=sp.DOING_FIXED_SWITCH, fixed_switch_num=3, **REAL_RUN), [1, 2, 3, 4, 5, 6],
        [C, C, G, C, C, G], dict(num_dendrites_added=2, switch_epochs=[2, 5])),
    "a loss is minimised": (
        dict(n_epochs_to_switch=2, **REAL_RUN), [5, 4, 3, 3, 3], [C, C, C, C, G],
        dict(global_best_validation_score=3, best_epoch=2, maximizing=False)),
    "negative scores work (best starts as None)": (
        dict(n_epochs_to_switch=2, **REAL_RUN), [-5, -4, -3, -3, -3], [C, C, C, C, G],
        dict(global_best_validation_score=-3, best_epoch=2)),
    "a gain below the relative threshold is no improvement": (
        dict(n_epochs_to_switch=3, improvement_threshold=0.1, **REAL_RUN), [10, 10.5, 10.9, 10.95],
        [C, C, C, G], dict(best_epoch=0)),
    "a gain below the raw threshold is no improvement": (
        dict(n_epochs_to_switch=2, improvement_threshold=0.0, improvement_threshold_raw=0.5, **REAL_RUN),
        [1, 1.2, 1.4], [C, C, G], dict(best_epoch=0)),
    "three tries before giving up": (
        dict(n_epochs_to_switch=1, max_dendrite_tries=3, **REAL_RUN), [1, 2, 2, 1, 1, 1, 1, 1, 1],
        [C, C, G, C, R, C, R, C, "no_improvement"], dict(num_dendrites_added=0, accuracies=[1, 2])),
    "forced switch at the first epoch": (dict(force_at=(0,), **REAL_RUN), [1], [G], dict(num_dendrites_added=1)),
}


@pytest.mark.parametrize("name", CASES)
def test_score_sequences_give_the_expected_decisions(name):
    options, scores, expected_actions, expected_state = CASES[name]
    options = dict(options)
    run_options = {k: options.pop(k) for k in ("force_at",) if k in options}
    expected_state = dict(expected_state)
    maximizing = expected_state.pop("maximizing", True)
    doing_pai = expected_state.get("doing_pai", True)
    actions, state = simulate(scores, maximizing=maximizing, doing_pai=doing_pai, **run_options, **options)
    assert actions == expected_actions
    for field, value in expected_state.items():
        assert getattr(state, field) == value, field


def test_a_completed_run_keeps_its_last_epoch_and_a_switch_records_history():
    actions, state = simulate([1, 2, 2, 3, 3], n_epochs_to_switch=1, max_dendrites=1, **REAL_RUN)
    assert actions[-1] == "max_dendrites" and state.completed
    assert state.overwritten_vals == [[1, 2, 2], [1, 2, 3, 3]]  # each restore keeps the rewound history
    assert state.total_epochs_run == state.num_epochs_run + state.overwritten_epochs


def test_the_grace_period_holds_off_improvement_and_the_scheduler():
    rules = Policy.of(n_epochs_to_switch=2, initial_history_after_switches=2, **REAL_RUN)
    state = RunState()
    assert not sp.observe(state, 1.0, rules)  # epoch 1 of 2 in the grace period: averaged, not counted
    decision = sp.decide(state, rules)
    assert decision == sp.Decision(Action.CONTINUE, step_scheduler=False)
    sp.close_epoch(state, decision.action)
    assert not sp.observe(state, 3.0, rules) and state.running_accuracy == 2.0
    sp.close_epoch(state, sp.decide(state, rules).action)
    assert sp.observe(state, 5.0, rules)
    assert sp.decide(state, rules).step_scheduler


def test_history_lookback_smooths_the_running_score():
    state, rules = RunState(), Policy.of(history_lookback=4, **REAL_RUN)
    for score in (4.0, 8.0):
        sp.observe(state, score, rules)
        sp.close_epoch(state, Action.CONTINUE)
    assert state.running_accuracies == [4.0, 5.0]  # 4 * 3/4 + 8/4


def test_options_are_validated_and_read_through_the_run_config():
    with pytest.raises(ValueError, match="switch_mode"):
        Policy.of(switch_mode=7)
    rules = Policy.of(switch_mode="0", n_epochs_to_switch=4.0, max_dendrites="3")
    assert (rules.switch_mode, rules.n_epochs_to_switch, rules.max_dendrites) == (0, 4, 3)
    assert Policy.of(dendrites=1).improvement_threshold == 0.0001  # per-dendrite schedules are resolved


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_scores_never_reach_the_policy(bad):
    with pytest.raises(NonFiniteScoreError, match="diverged"):
        as_score(bad, "validation score")


def test_the_policy_and_the_state_import_no_torch():
    """Loaded by path (not through the pai_core package, whose __init__ imports torch)."""
    root = Path(sp.__file__).parent
    code = (
        "import importlib.util, sys, types\n"
        "sys.modules['pai_core'] = types.ModuleType('pai_core')\n"
        "sys.modules['pai_core'].__path__ = []\n"
        f"for name in ('errors', 'options', 'run_state', 'switch_policy'):\n"
        f"    spec = importlib.util.spec_from_file_location('pai_core.' + name, r'{root}/' + name + '.py')\n"
        "    module = importlib.util.module_from_spec(spec); sys.modules[spec.name] = module\n"
        "    spec.loader.exec_module(module)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(sys.modules['pai_core.switch_policy'].decide(sys.modules['pai_core.run_state'].RunState(), "
        "sys.modules['pai_core.switch_policy'].Policy.of()).action.value)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "continue"
