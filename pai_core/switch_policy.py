"""When to grow dendrites: scores in, decision out. Torch-free, so every rule is testable without a model.

One epoch is `observe` (record the score, running average and bests), then `decide` (what the switch does),
then, after the tracker has carried the action out on the model, `grown` / `rewound` / `close_epoch` update the
state the same way on every process. The rules follow upstream 3.2.9 (section 3 of the spec) with pai's
documented differences: "best so far" starts as None so negative scores and losses work, improvement means
`delta > max(threshold * |best|, raw threshold)`, there is no learning-rate search, and every run with finite
patience ends.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from pai_core.options import (
    DOING_FIXED_SWITCH,
    DOING_HISTORY,
    DOING_NO_SWITCH,
    DOING_SWITCH_EVERY_TIME,
    OPTIONS,
    SWITCH_MODE_NAMES,
)
from pai_core.run_state import RunState

__all__ = ["DOING_FIXED_SWITCH", "DOING_HISTORY", "DOING_NO_SWITCH", "DOING_SWITCH_EVERY_TIME", "SWITCH_MODE_NAMES",
           "Action", "Decision", "Policy", "decide", "observe", "switch_due"]


@dataclass(frozen=True)
class Policy:
    """The options the decision reads, resolved for the current number of dendrites."""

    switch_mode: int
    n_epochs_to_switch: int
    history_lookback: float
    initial_history_after_switches: int
    fixed_switch_num: int
    first_fixed_switch_num: int
    improvement_threshold: float
    improvement_threshold_raw: float
    max_dendrite_tries: int
    max_dendrites: int
    testing_dendrite_capacity: bool
    reset_best_score_on_switch: bool
    retain_all_dendrites: bool

    @classmethod
    def from_options(cls, opt: Callable[[str], Any]) -> Policy:
        """Read every field with `opt(name)` (the tracker's run-config lookup), coerced to the field's type."""
        casts = {"int": int, "float": float, "bool": bool}
        return cls(**{f.name: casts[f.type](opt(f.name)) for f in fields(cls)})

    @classmethod
    def of(cls, dendrites: int = 0, **overrides: Any) -> Policy:
        """The schema's defaults (per-dendrite lists resolved for `dendrites`) with `overrides`."""
        def value(name: str) -> Any:
            if name in overrides:
                return overrides[name]
            default = OPTIONS[name].default
            return default[min(len(default) - 1, dendrites)] if isinstance(default, (list, tuple)) else default

        return cls.from_options(value)

    def __post_init__(self) -> None:
        if self.switch_mode not in SWITCH_MODE_NAMES:
            raise ValueError(f"Unknown switch_mode {self.switch_mode!r}; use one of {SWITCH_MODE_NAMES}.")


class Action(enum.Enum):
    """What the end of an epoch does to the model."""

    CONTINUE = "continue"
    GROW = "grow"  # restore the best model, add one dendrite everywhere
    RETRY = "retry"  # the newest dendrites did not help: restore the best model, grow fresh ones
    CAPACITY_TEST_PASSED = "capacity_test_passed"  # complete, keep the model as it is
    NO_IMPROVEMENT = "no_improvement"  # complete with the best model
    MAX_DENDRITES = "max_dendrites"  # complete with the best model
    EARLY_STOPPING = "early_stopping"  # complete with the best model (doing_pai=False)

    @property
    def restructures(self) -> bool:
        return self in (Action.GROW, Action.RETRY)

    @property
    def completes(self) -> bool:
        return self not in (Action.CONTINUE, Action.GROW, Action.RETRY)

    @property
    def restores_best(self) -> bool:
        return self not in (Action.CONTINUE, Action.CAPACITY_TEST_PASSED)

    @property
    def changes_model(self) -> bool:
        """What add_validation_score returns as `restructured`: the model's weights or shape were replaced."""
        return self.restructures or self.restores_best


@dataclass(frozen=True)
class Decision:
    action: Action
    step_scheduler: bool  # a plain epoch past the grace period steps the scheduler on the score


def beats(new: float, old: float | None, policy: Policy, maximizing: bool) -> bool:
    """Whether `new` improves on `old` by more than both thresholds (anything beats no score)."""
    if old is None:
        return True
    delta = (new - old) if maximizing else (old - new)
    return delta > policy.improvement_threshold * abs(old) and delta > policy.improvement_threshold_raw


def epochs_since_switch(state: RunState) -> int:
    """1 for the first epoch of the run and for the first epoch after a switch."""
    last = state.switch_epochs[-1] if state.switch_epochs else -1
    return state.num_epochs_run - last


def observe(state: RunState, score: float, policy: Policy) -> bool:
    """Record this epoch's score; True when it is the best model of the run so far (the tracker saves it)."""
    since = epochs_since_switch(state)
    grace = policy.initial_history_after_switches
    running = state.running_accuracy
    if running is None:
        running = score
    elif since <= grace:
        running += (score - running) / since
    else:
        lookback = max(1.0, policy.history_lookback)
        running = running * (1 - 1 / lookback) + score / lookback
    state.running_accuracy = running
    state.accuracies.append(score)
    state.running_accuracies.append(running)
    counts = since > grace or policy.switch_mode == DOING_SWITCH_EVERY_TIME
    if not (counts and beats(running, state.current_best_validation_score, policy, state.maximizing_score)):
        return False
    state.current_best_validation_score = running
    state.epoch_last_improved = state.num_epochs_run
    if not beats(running, state.global_best_validation_score, policy, state.maximizing_score):
        return False
    state.global_best_validation_score = running
    state.current_n_set_global_best = True
    state.best_epoch = state.num_epochs_run
    return True


def switch_due(state: RunState, policy: Policy) -> bool:
    """Whether this epoch ends the current dendrite round."""
    mode = policy.switch_mode
    if mode == DOING_NO_SWITCH:
        return False
    if mode == DOING_SWITCH_EVERY_TIME:
        return True
    this_count = state.num_epochs_run - (state.switch_epochs[-1] if state.switch_epochs else 0)
    if mode == DOING_HISTORY:
        patience = policy.n_epochs_to_switch
        return state.mode == "n" and state.num_epochs_run - state.epoch_last_improved >= patience and \
            this_count >= policy.initial_history_after_switches + patience
    fixed = policy.fixed_switch_num
    return state.total_epochs_run % fixed == fixed - 1 and state.num_epochs_run >= policy.first_fixed_switch_num - 1


def decide(state: RunState, policy: Policy, force_switch: bool = False) -> Decision:
    """The action at the end of an observed epoch."""
    if not (force_switch or switch_due(state, policy)):
        return Decision(Action.CONTINUE, epochs_since_switch(state) > policy.initial_history_after_switches)
    neuron_phase = state.mode == "n"
    if neuron_phase and state.num_dendrites_added > 2 and policy.testing_dendrite_capacity:
        return Decision(Action.CAPACITY_TEST_PASSED, False)
    if neuron_phase and not state.current_n_set_global_best:
        if state.num_dendrite_tries < policy.max_dendrite_tries - 1:
            return Decision(Action.RETRY, False)
        return Decision(Action.NO_IMPROVEMENT, False)
    if not state.doing_pai:
        return Decision(Action.EARLY_STOPPING, False)
    if neuron_phase and state.num_dendrites_added >= policy.max_dendrites:
        return Decision(Action.MAX_DENDRITES, False)
    return Decision(Action.GROW, False)


def rewound(current: RunState, best: RunState) -> RunState:
    """The state after the best model was restored: the best epoch's state, keeping what happened since."""
    best.overwritten_epochs = current.overwritten_epochs + current.num_epochs_run - best.num_epochs_run
    best.total_epochs_run = best.num_epochs_run + best.overwritten_epochs
    best.num_dendrite_tries = current.num_dendrite_tries
    best.overwritten_vals = current.overwritten_vals + [current.accuracies]
    return best


def before_growth(state: RunState, action: Action) -> None:
    """A retry counts one more try; a normal switch starts counting again."""
    state.num_dendrite_tries = state.num_dendrite_tries + 1 if action is Action.RETRY else 0


def grown(state: RunState, policy: Policy, param_count: int) -> None:
    """Dendrites were added to every module at the (restored) current epoch."""
    had = state.num_dendrites_added
    state.switch_epochs.append(state.num_epochs_run)
    state.last_switch = state.num_epochs_run
    state.num_dendrites_added = had + 1
    state.num_cycles += 2
    state.mode = "n"
    state.current_best_validation_score = None
    state.current_n_set_global_best = False
    if policy.reset_best_score_on_switch:
        state.running_accuracy = None
    if policy.retain_all_dendrites:
        state.current_n_set_global_best = True
        state.global_best_validation_score = None
    state.param_counts.append(param_count)
    if had > 0:
        state.num_dendrites_integrated += 1


def complete(state: RunState, action: Action) -> None:
    state.completed = True
    state.completion_reason = action.value


def close_epoch(state: RunState, action: Action) -> None:
    """Advance the epoch counters (a completed run stays at its last epoch)."""
    if not action.completes:
        state.num_epochs_run += 1
        state.total_epochs_run = state.num_epochs_run + state.overwritten_epochs
    if action.changes_model:
        state.epoch_last_improved = state.num_epochs_run
