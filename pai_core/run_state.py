"""What a run has decided so far, as a typed record that travels inside every checkpoint.

Torch-free: plain values only, so the decision policy can be tested on it without a model, rank 0 can broadcast
it, and a checkpoint can carry it. Per-epoch histories grow every epoch, so a checkpoint stores them as float64
series (arrays, written as tensors) and the rest as a small JSON dict: `pack` / `unpack`.
`Tracker.member_vars` is the upstream-compatible dict view over it.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from array import array
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("pai_core.run_state")

STATE_VERSION = 1
STATE_PREFIX = "__pai_state__."
SERIES = ("accuracies", "running_accuracies", "training_learning_rates", "training_loss", "n_epoch_times",
          "n_train_times", "n_val_times")  # one value per epoch
SERIES_DICTS = ("extra_scores", "extra_scores_without_graphing", "test_scores")  # name -> one value per epoch


@dataclass
class RunState:
    """The tracker's whole decision state (the keys of upstream's member_vars)."""

    maximizing_score: bool = True
    doing_pai: bool = True
    version: int = STATE_VERSION
    mode: str = "n"  # upstream's neuron ("n") phase; pai has no other
    num_dendrites_added: int = 0
    num_dendrites_integrated: int = 0
    num_cycles: int = 0
    num_epochs_run: int = 0  # epochs of the current history (a restore rewinds it to the best epoch)
    total_epochs_run: int = 0  # every epoch trained, rewound ones included
    overwritten_epochs: int = 0
    epoch_last_improved: int = 0
    running_accuracy: float | None = None
    current_best_validation_score: float | None = None  # best of the current dendrite count
    global_best_validation_score: float | None = None
    best_epoch: int | None = None
    current_n_set_global_best: bool = True
    num_dendrite_tries: int = 0
    switch_epochs: list[int] = field(default_factory=list)  # one entry per switch
    last_switch: int | None = None
    param_counts: list[int] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    running_accuracies: list[float] = field(default_factory=list)
    extra_scores: dict[str, list[float]] = field(default_factory=dict)
    extra_scores_without_graphing: dict[str, list[float]] = field(default_factory=dict)
    test_scores: dict[str, list[float]] = field(default_factory=dict)
    training_learning_rates: list[float | None] = field(default_factory=list)
    training_loss: list[float] = field(default_factory=list)
    n_epoch_times: list[float] = field(default_factory=list)
    n_train_times: list[float] = field(default_factory=list)
    n_val_times: list[float] = field(default_factory=list)
    manual_train_switch: bool = False
    overwritten_vals: list[list[float]] = field(default_factory=list)  # the histories a restore rewound
    completed: bool = False
    completion_reason: str | None = None

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.keys()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], **defaults: Any) -> RunState:
        """A state from a saved dict; keys this version does not know are dropped (and logged)."""
        known = set(cls.keys())
        unknown = sorted(set(data) - known)
        if unknown:
            logger.debug("ignoring unknown run-state keys %s", unknown)
        return cls(**{**defaults, **{k: v for k, v in data.items() if k in known}})

    def copy(self) -> RunState:
        """A copy deep enough that later appends to the live histories do not show in it (values are immutable)."""
        values = {}
        for name, value in self.as_dict().items():
            if isinstance(value, list):
                value = [list(v) if isinstance(v, list) else v for v in value]
            elif isinstance(value, dict):
                value = {k: list(v) if isinstance(v, list) else v for k, v in value.items()}
            values[name] = value
        return RunState(**values)


def _series_array(values: list, cache: dict | None = None, key: str = "") -> array:
    """A history as float64 (None as NaN). With a cache, a list that only grew since the last call is extended
    by its new tail instead of converted again, so checkpointing every epoch stays O(1) per epoch."""
    hit = cache.get(key) if cache is not None else None
    if hit is not None and hit[0] is values and len(hit[1]) <= len(values):
        series, tail = hit[1], values[len(hit[1]):]
    else:
        series, tail = array("d"), values
    series.extend([math.nan if v is None else v for v in tail] if None in tail else tail)
    if cache is not None:
        cache[key] = (values, series)
    return series


def _series_list(tensor: Any) -> list:
    return [None if math.isnan(v) else v for v in tensor.tolist()]


def pack(state: RunState, cache: dict | None = None) -> tuple[dict[str, array], dict[str, Any]]:
    """Split the state into per-epoch series (float64 arrays, stored as tensors) and a small JSON rest.

    Serialising growing histories as JSON every epoch would cost O(epochs) per epoch; `cache` (a dict the
    caller keeps) makes converting them O(new values).
    """
    tensors: dict[str, array] = {}
    meta = {k: v for k, v in state.as_dict().items() if k not in SERIES and k not in SERIES_DICTS
            and k != "overwritten_vals"}
    for key in SERIES:
        tensors[STATE_PREFIX + key] = _series_array(getattr(state, key), cache, key)
    for key in SERIES_DICTS:
        values_by_name = getattr(state, key)
        meta[key] = list(values_by_name)
        for index, values in enumerate(values_by_name.values()):
            tensors[f"{STATE_PREFIX}{key}.{index}"] = _series_array(values, cache, f"{key}.{index}")
    meta["overwritten_vals"] = len(state.overwritten_vals)
    for index, values in enumerate(state.overwritten_vals):
        tensors[f"{STATE_PREFIX}overwritten_vals.{index}"] = _series_array(values, cache, f"overwritten.{index}")
    meta["packed_series"] = True
    return tensors, meta


def unpack(tensors: dict[str, Any], meta: dict[str, Any], **defaults: Any) -> RunState:
    """Inverse of `pack` (a state saved without packing, as by early versions, is read as is)."""
    data = dict(meta)
    if data.pop("packed_series", False):
        for key in SERIES:
            data[key] = _series_list(tensors[STATE_PREFIX + key])
        for key in SERIES_DICTS:
            data[key] = {name: _series_list(tensors[f"{STATE_PREFIX}{key}.{index}"])
                         for index, name in enumerate(meta[key])}
        data["overwritten_vals"] = [_series_list(tensors[f"{STATE_PREFIX}overwritten_vals.{index}"])
                                    for index in range(int(meta["overwritten_vals"]))]
    return RunState.from_dict(data, **defaults)
