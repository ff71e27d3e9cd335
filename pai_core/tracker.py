"""The dendrite-growth tracker: fed one validation score per epoch, it keeps the best model, decides when learning
has plateaued, restores the best weights and grows one dendrite in every perforated module, and says when the
run is complete. It also writes the run folder (upstream-compatible CSVs, PNG, checkpoints, pai_run.json).

One Tracker per perforated model (found again with `tracker_for(model)`); `pai_tracker` is the upstream-style
facade `GPA.pai_tracker` that forwards to the most recently attached tracker. The tracker reads only its run's
own config copy, never the process-wide defaults.

Deliberate differences from upstream 3.2.9 (all documented in the README of pai_core):
- "best so far" starts as None, not 0, so negative scores and losses work; improvement means
  `delta > max(improvement_threshold * |best|, improvement_threshold_raw)`; the first epoch of the run counts.
- No learning-rate search (find_best_lr is accepted and logged once): upstream's search can block every later
  switch forever. Every run with finite patience ends.
- Errors are exceptions (pai_core.errors), never pdb or sys.exit.
- CSVs are rewritten only when their content changes, the PNG is drawn at switches and at the end.
- A score before any optimizer is registered is fine: its learning rate is recorded as empty.
- NaN/inf scores raise NonFiniteScoreError (a diverged run should not silently become "no improvement").
- state["switch_epochs"] / param_counts (member_vars, pai_run.json) hold ONE entry per switch; only the CSVs
  repeat each switch row twice, byte-compatible with upstream readers (distinct epochs are the same either way).
- Checkpoints are written every epoch on the training thread, before add_validation_score returns: best_model.pt
  (when the best changed) then latest.pt (weights, optimizer, tracker state), with checkpoint.swap_write_bytes,
  which costs tens of microseconds where os.replace costs ~1 ms on ext4. Resume promise: a killed (SIGKILL) run
  loses at most the epoch in progress. The logs (CSVs, pai_run.json, PNG) are rendered from the state, so they
  are produced as bytes and written by a background thread at most every `log_interval_s` (LOG_INTERVAL_S =
  1 s) of wall time, always at the first epoch, at switches, at completion and by `flush()`; a resumed run
  rewrites them from its state. `log_interval_s = 0` writes them every epoch (upstream behaviour). At
  interpreter exit the deferred logs catch up.
- PNG: drawn at the first epoch, at switches, at the end and at most every PNG_INTERVAL_S seconds otherwise.
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import datetime as _dt
import json
import logging
import math
import threading
import time
import weakref
from array import array
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pai_core import optim as _optim
from pai_core.checkpoint import (
    TRACKER_KEY,
    BackgroundWriter,
    CheckpointLayout,
    checkpoint_bytes,
    checkpoint_exists,
    checkpoint_from_bytes,
    load_checkpoint,
    load_into_model,
    save_checkpoint,
    structure_generation,
    swap_write_bytes,
)
from pai_core.distributed import is_distributed, is_rank_zero
from pai_core.errors import (
    DendriteError,
    InvalidScoreError,
    NonFiniteScoreError,
    OptimizerNotRebuiltError,
    TrackerNotReadyError,
    WrappedModelError,
)
from pai_core.run_files import RunFiles, best_arch_rows, timestamp

logger = logging.getLogger("pai_core.tracker")

DOING_SWITCH_EVERY_TIME, DOING_HISTORY, DOING_FIXED_SWITCH, DOING_NO_SWITCH = 0, 1, 2, 3
SWITCH_MODE_NAMES = {0: "DOING_SWITCH_EVERY_TIME", 1: "DOING_HISTORY", 2: "DOING_FIXED_SWITCH",
                     3: "DOING_NO_SWITCH"}
CAPACITY_SUCCESS = ("Successfully added 3 dendrites with GPA.pc.set_testing_dendrite_capacity(True) (default). "
                    "You may now set that to False and run a real experiment.")
STATE_VERSION = 1
PNG_INTERVAL_S = 120.0
LOG_INTERVAL_S = 1.0  # CSVs/pai_run.json are written at most this often (switches and completion always)

# Upstream defaults, used only when the run config lacks an option (e.g. a plain object passed as config).
_DEFAULTS: dict[str, Any] = {
    "switch_mode": DOING_HISTORY, "n_epochs_to_switch": 10, "history_lookback": 1,
    "initial_history_after_switches": 0, "fixed_switch_num": 250, "first_fixed_switch_num": -1,
    "reset_best_score_on_switch": True, "improvement_threshold": [0.001, 0.0001, 0.0],
    "improvement_threshold_raw": 1e-5, "find_best_lr": True, "max_dendrite_tries": 2, "max_dendrites": 100,
    "retain_all_dendrites": False, "testing_dendrite_capacity": True, "test_saves": True,
    "drawing_extra_graphs": True, "silent": False, "verbose": False, "checked_skipped_modules": False,
    "module_names_to_not_save": [".base_model"], "strict_loading": True, "weight_decay_accepted": True,
}
_LIST_OPTIONS = {"module_names_to_not_save"}
_EVERY_EPOCH = ("best_model", "latest")  # checkpoints rewritten every epoch, each with its own cached layout
_CAPACITY_OVERRIDES = {"switch_mode": DOING_SWITCH_EVERY_TIME, "retain_all_dendrites": True,
                       "max_dendrite_tries": 1000, "max_dendrites": 1000}

_REGISTRY: weakref.WeakKeyDictionary[nn.Module, Tracker] = weakref.WeakKeyDictionary()
_LATEST: list[Tracker] = []  # the most recently attached tracker, for the GPA.pai_tracker facade
_LOCK = threading.Lock()
_DUE: weakref.WeakSet[Tracker] = weakref.WeakSet()  # trackers that may hold deferred logs


@atexit.register  # registered after checkpoint's writer flush, so it runs first (atexit is LIFO)
def _write_due_logs() -> None:
    """At exit the deferred CSVs and pai_run.json catch up (the checkpoints are written every epoch)."""
    for tracker in list(_DUE):
        try:
            if tracker._outputs_due:
                tracker._write_logs(draw=False)
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - best effort at interpreter exit
            logger.warning("could not write the last run files of %s: %s", tracker.save_name, exc)


def fresh_state(maximizing_score: bool, doing_pai: bool) -> dict[str, Any]:
    """The tracker's whole decision state: plain JSON-able values, saved inside every checkpoint."""
    return {
        "version": STATE_VERSION, "doing_pai": doing_pai, "maximizing_score": maximizing_score, "mode": "n",
        "num_dendrites_added": 0, "num_dendrites_integrated": 0, "num_cycles": 0,
        "num_epochs_run": 0, "total_epochs_run": 0, "overwritten_epochs": 0,
        "epoch_last_improved": 0, "running_accuracy": None,
        "current_best_validation_score": None, "global_best_validation_score": None, "best_epoch": None,
        "current_n_set_global_best": True, "num_dendrite_tries": 0,
        "switch_epochs": [], "last_switch": None, "param_counts": [],
        "accuracies": [], "running_accuracies": [], "extra_scores": {}, "extra_scores_without_graphing": {},
        "test_scores": {}, "training_learning_rates": [], "training_loss": [],
        "n_epoch_times": [], "n_train_times": [], "n_val_times": [], "manual_train_switch": False,
        "overwritten_vals": [], "completed": False, "completion_reason": None,
    }


_SERIES = ("accuracies", "running_accuracies", "training_learning_rates", "training_loss", "n_epoch_times",
           "n_train_times", "n_val_times")
_SERIES_DICTS = ("extra_scores", "extra_scores_without_graphing", "test_scores")
STATE_PREFIX = "__pai_state__."


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A copy deep enough that later appends to the live histories do not show in it (values are immutable)."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, list):
            out[key] = [list(v) if isinstance(v, list) else v for v in value]
        elif isinstance(value, dict):
            out[key] = {k: list(v) if isinstance(v, list) else v for k, v in value.items()}
        else:
            out[key] = value
    return out


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


def _series_list(tensor: torch.Tensor) -> list:
    return [None if math.isnan(v) else v for v in tensor.tolist()]


def pack_state(state: dict[str, Any], cache: dict | None = None) -> tuple[dict[str, array], dict[str, Any]]:
    """Split the state into per-epoch series (float64 arrays, stored as tensors) and a small JSON rest.

    Serialising growing histories as JSON every epoch would cost O(epochs) per epoch; `cache` (a dict the
    caller keeps) makes converting them O(new values).
    """
    tensors: dict[str, array] = {}
    meta = {k: v for k, v in state.items() if k not in _SERIES and k not in _SERIES_DICTS
            and k != "overwritten_vals"}
    for key in _SERIES:
        tensors[STATE_PREFIX + key] = _series_array(state[key], cache, key)
    for key in _SERIES_DICTS:
        meta[key] = list(state[key])
        for index, values in enumerate(state[key].values()):
            tensors[f"{STATE_PREFIX}{key}.{index}"] = _series_array(values, cache, f"{key}.{index}")
    meta["overwritten_vals"] = len(state["overwritten_vals"])
    for index, values in enumerate(state["overwritten_vals"]):
        tensors[f"{STATE_PREFIX}overwritten_vals.{index}"] = _series_array(values, cache, f"overwritten.{index}")
    meta["packed_series"] = True
    return tensors, meta


def unpack_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    """Inverse of pack_state (a state saved without packing is returned as is)."""
    state = dict(meta)
    if not state.pop("packed_series", False):
        return state
    for key in _SERIES:
        state[key] = _series_list(tensors[STATE_PREFIX + key])
    for key in _SERIES_DICTS:
        state[key] = {name: _series_list(tensors[f"{STATE_PREFIX}{key}.{index}"])
                      for index, name in enumerate(meta[key])}
    state["overwritten_vals"] = [_series_list(tensors[f"{STATE_PREFIX}overwritten_vals.{index}"])
                                 for index in range(int(meta["overwritten_vals"]))]
    return state


def _split(tensors: dict[str, torch.Tensor]) -> tuple[dict, dict, dict]:
    """(model weights, optimizer tensors, state tensors) of a loaded checkpoint."""
    weights, opt, state = {}, {}, {}
    for key, value in tensors.items():
        if key.startswith(_optim.OPTIMIZER_PREFIX):
            opt[key] = value
        elif key.startswith(STATE_PREFIX):
            state[key] = value
        else:
            weights[key] = value
    return weights, opt, state


def _as_score(score: Any, what: str = "score") -> float:
    """float/int/0-dim tensor/numpy scalar -> float; anything else is a clear error."""
    if isinstance(score, bool):
        raise InvalidScoreError(f"The {what} is a bool ({score}); pass the number to track (e.g. accuracy).")
    if isinstance(score, dict):
        keys = ", ".join(repr(k) for k in list(score)[:6])
        raise InvalidScoreError(f"The {what} is a dict with keys [{keys}]; pass one number, e.g. "
                                f"scores[{next(iter(score), 'key')!r}].")
    if isinstance(score, (list, tuple)):
        raise InvalidScoreError(f"The {what} is a {type(score).__name__} of {len(score)} values; pass the single "
                                "number to track (e.g. the validation accuracy).")
    if isinstance(score, torch.Tensor):
        if score.numel() != 1:
            raise InvalidScoreError(f"The {what} is a tensor of shape {tuple(score.shape)}; pass a single value "
                                    "(reduce it with .mean() or index the metric you track).")
        value = float(score.detach().reshape(()).item())
    elif hasattr(score, "item") and callable(score.item) and getattr(score, "size", 1) == 1:
        value = float(score.item())  # numpy scalars / 1-element arrays
    elif isinstance(score, (int, float)):
        value = float(score)
    else:
        raise InvalidScoreError(f"The {what} has type {type(score).__name__}; pass a float, int, 0-dim tensor "
                                "or numpy scalar.")
    if not math.isfinite(value):
        raise NonFiniteScoreError(f"The {what} is {value}. The run has probably diverged (NaN/inf loss): lower "
                                  "the learning rate or check the metric; the tracker does not record it.")
    return value


def _neuron_modules(model: nn.Module) -> list:
    from pai_core.modules import neuron_modules

    return neuron_modules(model)


def _count_params(model: nn.Module) -> int:
    from pai_core.modules import count_params

    return int(count_params(model))


class Tracker:
    """Tracks one perforated model's run. Created by `attach_tracker` (called by perforate_model)."""

    def __init__(self, model: nn.Module, config: Any, *, save_name: str, maximizing_score: bool,
                 doing_pai: bool = True, making_graphs: bool = True, num_classes: int = 10_000_000_000,
                 values_per_train_epoch: int = -1, values_per_val_epoch: int = -1, zooming_graph: bool = True):
        self.config = config
        self.save_name = str(save_name) or "PAI"
        self.folder = Path(self.save_name).resolve()
        self.making_graphs = making_graphs
        self.zooming_graph = zooming_graph
        self.num_classes = num_classes
        self.values_per_train_epoch = values_per_train_epoch
        self.values_per_val_epoch = values_per_val_epoch
        self.state = fresh_state(bool(maximizing_score), bool(doing_pai))
        self._model_ref = weakref.ref(model)
        self.optimizer_class: type | None = None
        self.scheduler_class: type | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self._awaiting_optimizer = False  # True after a restructure dropped the registered optimizer
        self._watch: _optim.NewParameterWatch | None = None  # are the last restructure's parameters training?
        self.scheduler: Any = None
        self._pending_optimizer_state: tuple[dict, dict] | None = None
        self._best: bytes | None = None  # the best model's checkpoint, kept in memory for restores
        self._layouts: dict[str, tuple[tuple, CheckpointLayout]] = {}  # see _checkpoint_bytes
        self._local_call = False  # True while rank 0 runs the single-process logic (pai_core.distributed)
        self._series_cache: dict[str, tuple[list, array]] = {}  # see pack_state
        self._epoch_started = time.perf_counter()
        self._manual_train_start: float | None = None
        self._manual_val_start: float | None = None
        self._lr_note_logged = False
        self._writes = is_rank_zero()
        self.writer = BackgroundWriter()
        self.files = RunFiles(self.folder, self.save_name, extra_graphs=bool(self.opt("drawing_extra_graphs")),
                              writer=self.writer)
        self._module_name_cache: list[str] | None = None
        self._last_draw = -math.inf  # the PNG is drawn at the first epoch, at switches, at the end, and
        # otherwise at most every PNG_INTERVAL_S seconds (upstream redraws it every epoch)
        self.log_interval_s = LOG_INTERVAL_S  # see the module docstring
        self._last_output = -math.inf
        self._outputs_due = False  # an epoch closed whose outputs are not written yet
        self._best_due = False  # self._best changed and best_model.pt is not written yet

    # ------------------------------------------------------------------ config and identity
    def opt(self, name: str) -> Any:
        """The run config's value of option `name`, list-valued scalars indexed by dendrites added."""
        cfg, n = self.config, self.state["num_dendrites_added"]
        if cfg is not None and hasattr(cfg, "resolve"):
            try:
                return cfg.resolve(name, n)
            except (AttributeError, KeyError):
                pass
        value = getattr(cfg, name, _DEFAULTS.get(name)) if cfg is not None else _DEFAULTS.get(name)
        if isinstance(value, (list, tuple)) and name not in _LIST_OPTIONS:
            return value[min(len(value) - 1, n)] if value else None
        return value

    @property
    def model(self) -> nn.Module | None:
        return self._model_ref()

    @property
    def member_vars(self) -> MemberVars:
        """Upstream's member_vars: a live dict-like view of the state (mode, num_dendrites_added, ...)."""
        return MemberVars(self)

    def _accept_model(self, model: Any) -> nn.Module:
        if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            raise WrappedModelError(f"add_validation_score got a {type(model).__name__} wrapper; pass the bare "
                                    "model instead: `model.module`.")
        if not isinstance(model, nn.Module):
            raise TypeError(f"Expected the perforated nn.Module as second argument, got {type(model).__name__}.")
        current = self.model
        if current is not None and model is not current:
            inner = getattr(model, "module", None)
            if inner is current:  # some other wrapper around our model (FSDP, a custom DataParallel...)
                raise WrappedModelError(f"add_validation_score got a {type(model).__name__} wrapping the "
                                        "perforated model; pass the bare model instead: `model.module`.")
        if model is not current:
            self._model_ref = weakref.ref(model)
            _REGISTRY[model] = self
        return model

    def _say(self, message: str) -> None:
        logger.info(message)
        if self.opt("verbose") and not self.opt("silent"):
            print(message)

    # ------------------------------------------------------------------ scores
    def add_extra_score(self, score: Any, name: str) -> None:
        """Record an extra per-epoch score (graphed and written to Scores.csv); call before add_validation_score."""
        self.state["extra_scores"].setdefault(str(name), []).append(_as_score(score, f"extra score {name!r}"))

    def add_extra_score_without_graphing(self, score: Any, name: str) -> None:
        """Record an extra per-epoch score that goes to the CSVs only."""
        self.state["extra_scores_without_graphing"].setdefault(str(name), []).append(
            _as_score(score, f"extra score {name!r}"))

    def add_test_score(self, score: Any, name: str) -> None:
        """A test score is an extra score that is also kept in test_scores."""
        value = _as_score(score, f"test score {name!r}")
        self.state["extra_scores"].setdefault(str(name), []).append(value)
        self.state["test_scores"].setdefault(str(name), []).append(value)

    def add_loss(self, loss: Any) -> None:
        self.state["training_loss"].append(_as_score(loss, "loss"))

    def add_learning_rate(self, learning_rate: Any) -> None:
        self.state["training_learning_rates"].append(_as_score(learning_rate, "learning rate"))

    # ------------------------------------------------------------------ optimizer / scheduler
    def set_optimizer(self, optimizer_class: type) -> None:
        self.optimizer_class = optimizer_class

    def set_scheduler(self, scheduler_class: type | None) -> None:
        self.scheduler_class = scheduler_class

    def setup_optimizer(self, model: nn.Module, optim_args: dict, sched_args: dict | None = None,
                        parameters: Any = None):
        """Build the registered optimizer over trainable params (and the scheduler, which the tracker steps).

        Returns the optimizer alone when no scheduler class is registered, else (optimizer, scheduler).
        Call it again after every `restructured` epoch. A resumed run gets its saved optimizer state back.
        Adam/AdamW run fused and other optimizers that offer it foreach, unless optim_args choose.
        """
        if self.optimizer_class is None:
            raise RuntimeError("Call GPA.pai_tracker.set_optimizer(torch.optim.Adam) (or another optimizer class) "
                               "before setup_optimizer, or build the optimizer yourself and pass it to "
                               "set_optimizer_instance.")
        args = dict(optim_args or {})
        params = parameters if parameters is not None else args.pop("params", None)
        args.pop("params", None)
        params = _optim.trainable_params(params, model)
        optimizer = self.optimizer_class(params, **_optim.with_fast_step(self.optimizer_class, args, params))
        scheduler = None
        if self.scheduler_class is not None:
            scheduler = _optim.build_scheduler(self.scheduler_class, optimizer, sched_args)
        self._register(optimizer, scheduler)
        return optimizer if scheduler is None else (optimizer, scheduler)

    def set_optimizer_instance(self, optimizer: torch.optim.Optimizer, additional_optimizers: Any = None) -> None:
        """Register an optimizer the user built (its LR is recorded; no scheduler is stepped by the tracker)."""
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"set_optimizer_instance expects a torch.optim.Optimizer, got {type(optimizer).__name__}.")
        if not self.opt("weight_decay_accepted") and any(g.get("weight_decay") for g in optimizer.param_groups):
            logger.warning("The optimizer uses weight decay, which shrinks fresh dendrite weights; set "
                           "weight_decay_accepted=True to silence this.")
        optimizer.zero_grad()
        self._register(optimizer, None)

    def _register(self, optimizer: torch.optim.Optimizer, scheduler: Any) -> None:
        self.optimizer, self.scheduler = optimizer, scheduler
        self._awaiting_optimizer = False
        if not self.state["accuracies"]:
            self._epoch_started = time.perf_counter()  # the first epoch starts once training can start
        if self._pending_optimizer_state is not None:
            if _optim.restore_optimizer(optimizer, scheduler, self._pending_optimizer_state):
                logger.info("Restored optimizer%s state from the resumed checkpoint.",
                            "/scheduler" if scheduler is not None else "")
            self._pending_optimizer_state = None
        if self.opt("find_best_lr") and scheduler is not None and not self._lr_note_logged:
            self._lr_note_logged = True
            logger.info("find_best_lr: pai_core does not run upstream's learning-rate search after a dendrite "
                        "(it can block completion); the scheduler simply continues.")

    def clear_optimizer_and_scheduler(self) -> None:
        # Set by a restructure that dropped a registered optimizer: the next score must come with a new one.
        self._awaiting_optimizer = self.optimizer is not None
        self.optimizer, self.scheduler = None, None

    # ------------------------------------------------------------------ epoch timing
    def start_epoch(self, internal_call: bool = False) -> None:
        """Optional manual timing: call at the start of training for the epoch (switches Times.csv to the
        train/val variant). The epoch counter is always advanced by add_validation_score."""
        now = time.perf_counter()
        self.state["manual_train_switch"] = True
        if self._manual_val_start is not None:
            self.state["n_val_times"].append(now - self._manual_val_start)
            self._manual_val_start = None
        self._manual_train_start = now

    def stop_epoch(self, internal_call: bool = False) -> None:
        """Optional manual timing: call after training, before validation."""
        now = time.perf_counter()
        if self._manual_train_start is not None:
            self.state["n_train_times"].append(now - self._manual_train_start)
            self._manual_train_start = None
        self._manual_val_start = now

    # ------------------------------------------------------------------ the decision
    def _beats(self, new: float, old: float | None) -> bool:
        if old is None:
            return True
        delta = (new - old) if self.state["maximizing_score"] else (old - new)
        return delta > float(self.opt("improvement_threshold")) * abs(old) and \
            delta > float(self.opt("improvement_threshold_raw"))

    def _epochs_since_switch(self) -> int:
        """1 for the first epoch of the run and for the first epoch after a switch."""
        last = self.state["switch_epochs"][-1] if self.state["switch_epochs"] else -1
        return self.state["num_epochs_run"] - last

    def switch_time(self) -> bool:
        """Whether this epoch ends the current dendrite round (section 3.4 of the spec, minus the LR lock)."""
        s, mode = self.state, int(self.opt("switch_mode"))
        if mode == DOING_NO_SWITCH:
            return False
        if mode == DOING_SWITCH_EVERY_TIME:
            return True
        this_count = s["num_epochs_run"] - (s["switch_epochs"][-1] if s["switch_epochs"] else 0)
        if mode == DOING_HISTORY:
            patience = int(self.opt("n_epochs_to_switch"))
            grace = int(self.opt("initial_history_after_switches"))
            return s["mode"] == "n" and s["num_epochs_run"] - s["epoch_last_improved"] >= patience and \
                this_count >= grace + patience
        if mode == DOING_FIXED_SWITCH:
            fixed = int(self.opt("fixed_switch_num"))
            first = int(self.opt("first_fixed_switch_num"))
            return s["total_epochs_run"] % fixed == fixed - 1 and s["num_epochs_run"] >= first - 1
        raise ValueError(f"Unknown switch_mode {mode!r}; use one of {SWITCH_MODE_NAMES}.")

    def _check_ready(self) -> None:
        if self._awaiting_optimizer:
            raise OptimizerNotRebuiltError(
                "The model was restructured (dendrites were added) at the previous add_validation_score, but no "
                "optimizer was registered since, so the new dendrite parameters are not being trained. In the "
                "`if restructured:` branch rebuild the optimizer exactly as first built: "
                "`optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)` (or create it "
                "yourself and call `GPA.pai_tracker.set_optimizer_instance(optimizer)`).")

    def _check_new_parameters_train(self) -> None:
        if self._watch is None:
            return
        stale = self._watch.verdict()
        if stale is None:
            return
        count = len(self._watch.params)
        self._stop_watch()
        if stale:
            shown = ", ".join(stale[:4]) + (", ..." if len(stale) > 4 else "")
            raise OptimizerNotRebuiltError(
                f"The model was restructured (dendrites were added), but {len(stale)} of its {count} new "
                f"parameters ({shown}) received gradients during the epoch since and did not change: no optimizer "
                "steps them, so the dendrites would never train. The optimizer was probably built over "
                "model.parameters() before the restructure and kept. In the `if restructured:` branch rebuild it "
                "over the returned model: `optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, "
                "optim_args, sched_args)` (or create it yourself and call "
                "`GPA.pai_tracker.set_optimizer_instance(optimizer)`).")

    def _stop_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def _distributed(self) -> bool:
        """True when torch.distributed is initialized and this is not rank 0's own (local) decision."""
        return not self._local_call and is_distributed()

    @contextlib.contextmanager
    def deciding_locally(self):
        """Within this block the tracker runs its single-process logic (rank 0's decision)."""
        self._local_call = True
        try:
            yield self
        finally:
            self._local_call = False

    def _adopt_model(self, model: nn.Module) -> None:
        self._model_ref = weakref.ref(model)
        _REGISTRY[model] = self

    def add_validation_score(self, score: Any, model: nn.Module, force_switch: bool = False):
        """Record this epoch's validation score; maybe grow dendrites. Returns (model, restructured, complete).

        Always keep using the returned model; when `restructured` is True rebuild the optimizer (and scheduler)
        over its parameters; when `training_complete` is True stop training: the model holds the best weights.
        """
        if self._distributed():  # every rank calls; rank 0 decides and broadcasts (pai_core.distributed)
            from pai_core import distributed

            return distributed.add_validation_score(self, score, model, force_switch)
        model = self._accept_model(model)
        score = _as_score(score, "validation score")
        now = time.perf_counter()
        s = self.state
        if s["completed"]:  # e.g. a resumed run that had already finished
            return model, False, True
        self._check_ready()
        self._check_new_parameters_train()
        if not s["manual_train_switch"]:
            s["n_epoch_times"].append(now - self._epoch_started)
        s["training_learning_rates"].append(_optim.current_lr(self.optimizer))
        if not s["param_counts"]:
            s["param_counts"].append(_count_params(model))

        since = self._epochs_since_switch()
        grace = int(self.opt("initial_history_after_switches"))
        running = s["running_accuracy"]
        if running is None:
            running = score
        elif since <= grace:
            running += (score - running) / since
        else:
            lookback = max(1.0, float(self.opt("history_lookback")))
            running = running * (1 - 1 / lookback) + score / lookback
        s["running_accuracy"] = running
        s["accuracies"].append(score)
        s["running_accuracies"].append(running)

        switch_mode = int(self.opt("switch_mode"))
        if (since > grace or switch_mode == DOING_SWITCH_EVERY_TIME) and \
                self._beats(running, s["current_best_validation_score"]):
            s["current_best_validation_score"] = running
            s["epoch_last_improved"] = s["num_epochs_run"]
            if self._beats(running, s["global_best_validation_score"]):
                s["global_best_validation_score"] = running
                s["current_n_set_global_best"] = True
                s["best_epoch"] = s["num_epochs_run"]
                self._save_best(model)

        restructured = complete = False
        if force_switch or self.switch_time():
            model, restructured, complete = self._handle_switch(model)
            s = self.state  # a switch rewinds the state to the best epoch's (a new dict)
        elif self.scheduler is not None and since > grace:
            _optim.step_scheduler(self.scheduler, score)

        if not complete:
            s["num_epochs_run"] += 1
            s["total_epochs_run"] = s["num_epochs_run"] + s["overwritten_epochs"]
        if restructured:
            s["epoch_last_improved"] = s["num_epochs_run"]
        self._write_epoch_outputs(model, draw=restructured or complete, force=restructured or complete)
        if complete:
            self.flush()  # the caller stops now: every file must be on disk
        elif restructured:
            self.writer.flush()  # a switch is never lost to a kill: its files are on disk before we return
        self._epoch_started = time.perf_counter()
        return model, bool(restructured), bool(complete)

    # ------------------------------------------------------------------ switches
    def _handle_switch(self, model: nn.Module) -> tuple[nn.Module, bool, bool]:
        before = list(nn.Module.parameters(model))  # to tell the parameters a restructure adds
        self._write_best_file()  # switches read and copy checkpoint files
        self.writer.flush()
        self._module_name_cache = None
        s = self.state
        if s["mode"] == "n" and s["num_dendrites_added"] > 2 and self.opt("testing_dendrite_capacity"):
            self._complete(model, "capacity_test_passed", restore=False)
            if not self.opt("silent"):
                print(CAPACITY_SUCCESS)
            logger.info(CAPACITY_SUCCESS)
            return model, False, True
        if s["mode"] == "n" and not s["current_n_set_global_best"]:
            self._snapshot(self._unique(f"_{timestamp()}_noImprove_lr_0"))
            tries = s["num_dendrite_tries"]
            max_tries = int(self.opt("max_dendrite_tries"))
            if tries < max_tries - 1:
                self._say(f"The newest dendrites did not improve the best score; try {tries + 2} of {max_tries} "
                          "with fresh dendrites from the best model.")
                self._restore_best(model)
                self.state["num_dendrite_tries"] = tries + 1
                self._add_dendrites(model)
                return self._after_restructure(model, before)
            self._say(f"The newest dendrites did not improve the best score after {tries + 1} tries: training "
                      "complete, the best model is loaded.")
            self._complete(model, "no_improvement", restore=True)
            return model, True, True
        if (s["mode"] == "n" and s["num_dendrites_added"] >= int(self.opt("max_dendrites"))) or not s["doing_pai"]:
            reason = "early_stopping" if not s["doing_pai"] else "max_dendrites"
            self._say("Validation plateaued: early stopping with the best model." if not s["doing_pai"] else
                      f"Last dendrites were good and this hit the max of {self.opt('max_dendrites')}.")
            self._snapshot("before_final")
            self._complete(model, reason, restore=True)
            return model, True, True
        # normal switch: snapshot, restore the best, grow one dendrite everywhere
        s["num_dendrite_tries"] = 0
        k = 2 * len(s["switch_epochs"])
        self._snapshot(f"_beforeSwitch_{k}")
        if self._writes and self.making_graphs:  # upstream's per-switch graph, <save>_beforeSwitch_<k>.png
            self.files.write_png(self.state, f"_beforeSwitch_{k}", zooming=self.zooming_graph)
        if self.opt("test_saves") and self._writes:
            self._save_model_file(model, f"beforeSwitch_{k}", epoch_open=False)
            best = self.folder / "best_model.pt"
            if best.exists():
                from pai_core.checkpoint import atomic_write_bytes

                atomic_write_bytes(self.folder / f"best_model_beforeSwitch_{k}.pt", best.read_bytes())
        self._restore_best(model)
        self._add_dendrites(model)
        return self._after_restructure(model, before)

    def _after_restructure(self, model: nn.Module, before: list) -> tuple[nn.Module, bool, bool]:
        self.clear_optimizer_and_scheduler()
        self._stop_watch()
        self._watch = _optim.NewParameterWatch(model, before)
        if self._writes:
            self._save_model_file(model, f"switch_{2 * len(self.state['switch_epochs'])}", epoch_open=False)
        return model, True, False

    def _add_dendrites(self, model: nn.Module) -> None:
        s = self.state
        modules = _neuron_modules(model)
        unknown = [m for m in modules if getattr(m, "out_channels", 0) is None]
        if unknown:
            names = ", ".join(getattr(m, "name", "?") for m in unknown)
            if not self.opt("checked_skipped_modules"):
                raise DendriteError(
                    f"Cannot add dendrites: module(s) {names} never received a gradient, so their output size is "
                    "unknown. Make sure every perforated module runs in forward and backward before the first "
                    "switch, track such modules instead, or set checked_skipped_modules=True to skip them.")
            logger.warning("Skipping dendrites for module(s) %s: they never received a gradient.", names)
        grew = 0
        for module in modules:
            if module in unknown:
                continue
            module.add_dendrite()
            grew += 1
        if not grew:
            raise DendriteError("No perforated module could take a dendrite; check module_names_to_perforate.")
        restored_epoch = s["num_epochs_run"]
        had = s["num_dendrites_added"]
        s["switch_epochs"].append(restored_epoch)
        s["last_switch"] = restored_epoch
        s["num_dendrites_added"] = had + 1
        s["num_cycles"] += 2
        s["mode"] = "n"
        s["current_best_validation_score"] = None
        s["current_n_set_global_best"] = False
        if self.opt("reset_best_score_on_switch"):
            s["running_accuracy"] = None
        if self.opt("retain_all_dendrites"):
            s["current_n_set_global_best"] = True
            s["global_best_validation_score"] = None
        s["param_counts"].append(_count_params(model))
        if had > 0:
            s["num_dendrites_integrated"] += 1
        self._say(f"Added dendrite {had + 1} to {grew} module(s) at epoch {restored_epoch} "
                  f"({s['param_counts'][-1]} parameters).")
        if self.opt("retain_all_dendrites"):
            self._save_best(model)

    def _restore_best(self, model: nn.Module) -> None:
        """Load the best weights into the same model object (dendrite counts resized) and rewind the state."""
        if self._best is not None:
            tensors, meta = checkpoint_from_bytes(self._best, "the in-memory best model")
        else:
            tensors, meta = load_checkpoint(self.folder / "best_model.pt")
        weights, _, state_tensors = _split(tensors)
        saved = (meta or {}).get("state")
        best_state = unpack_state(state_tensors, saved) if saved else copy.deepcopy(self.state)
        load_into_model(model, weights, strict=bool(self.opt("strict_loading")),
                        not_save=list(self.opt("module_names_to_not_save") or []), source="best_model")
        old = self.state
        new = best_state
        new["overwritten_epochs"] = old["overwritten_epochs"] + old["num_epochs_run"] - new["num_epochs_run"]
        new["total_epochs_run"] = new["num_epochs_run"] + new["overwritten_epochs"]
        new["num_dendrite_tries"] = old["num_dendrite_tries"]
        new["overwritten_vals"] = old["overwritten_vals"] + [old["accuracies"]]
        self.state = new

    def _complete(self, model: nn.Module, reason: str, *, restore: bool) -> None:
        if restore:
            self._restore_best(model)
        self.state["completed"] = True
        self.state["completion_reason"] = reason
        self.clear_optimizer_and_scheduler()

    # ------------------------------------------------------------------ persistence
    def _save_best(self, model: nn.Module) -> None:
        """Keep the best model's checkpoint bytes in memory; best_model.pt is written with this epoch's latest."""
        self._best = self._checkpoint_bytes(model, "best_model", epoch_open=False)
        self._best_due = True

    def _write_best_file(self) -> None:
        """Write best_model.pt if the in-memory best is newer (a resumed run restores from it)."""
        if self._best_due and self._best is not None and self._writes:
            swap_write_bytes(self.folder / "best_model.pt", self._best)
        self._best_due = False

    def _save_model_file(self, model: nn.Module, name: str, *, epoch_open: bool, with_optimizer: bool = False) -> None:
        """latest.pt now, on this thread (the resume promise); other checkpoints through the writer thread."""
        data = self._checkpoint_bytes(model, name, epoch_open=epoch_open, with_optimizer=with_optimizer)
        if name == "latest":
            swap_write_bytes(self.folder / "latest.pt", data)
        else:
            self.writer.submit(self.folder / f"{name}.pt", data)

    def _checkpoint_bytes(self, model: nn.Module, name: str, *, epoch_open: bool,
                          with_optimizer: bool = False) -> bytes:
        """Weights, tracker state (and optimizer state) as safetensors bytes.

        Written every epoch, so the layout is reused while no module registered anything new and the optimizer
        keeps its state tensors: then no state_dict() walk, one copy of all values, one small JSON header.
        """
        opt_tensors, opt_meta = (_optim.pack_optimizer(self.optimizer, self.scheduler) if with_optimizer
                                 else ({}, None))
        series, state_meta = pack_state(self.state, self._series_cache)
        meta: dict[str, Any] = {"state": state_meta, "epoch_open": epoch_open, "save_name": self.save_name}
        if opt_meta is not None:
            meta["optimizer"] = opt_meta
        try:
            text = json.dumps(meta)
        except (TypeError, ValueError):  # param_groups holding non-JSON values: checkpoint without the optimizer
            logger.debug("optimizer param_groups are not JSON-serialisable; optimizer state not checkpointed")
            meta.pop("optimizer", None)
            text = json.dumps(meta)
        key = (structure_generation(), tuple(map(id, opt_tensors.values())))
        slot = name if name in _EVERY_EPOCH else "other"
        cached = self._layouts.get(slot)
        if cached is None or cached[0] != key:
            skip = tuple(p.lstrip(".") for p in self.opt("module_names_to_not_save") or [] if p.lstrip("."))
            tensors = {k: v for k, v in model.state_dict(keep_vars=True).items()
                       if not (skip and k.startswith(skip))}
            tensors.update(opt_tensors)
            if not CheckpointLayout.supports(tensors):  # unusual dtypes: the general (slower) path
                return checkpoint_bytes({**tensors, **series}, meta)
            cached = self._layouts[slot] = (key, CheckpointLayout(tensors))
        return cached[1].to_bytes({"format": "pt", TRACKER_KEY: text}, series)

    def flush(self) -> None:
        """Write the logs deferred by log_interval_s, then wait until every file is on disk."""
        if self._outputs_due and self._writes:
            self._last_output, self._outputs_due = time.monotonic(), False
            self._write_logs(draw=False)
        self.writer.flush()

    def _snapshot(self, extra: str) -> None:
        if self._writes and self.making_graphs:
            self.files.write_csvs(self.state, self._module_names(), extra)

    def _unique(self, extra: str) -> str:
        """Upstream's timestamped names collide when two rounds fail within one second; suffix the later one."""
        candidate, index = extra, 1
        while self.files.path(f"{candidate}Scores.csv").exists():
            candidate, index = f"{extra}_{index}", index + 1
        return candidate

    def _module_names(self) -> list[str]:
        if self._module_name_cache is None:
            model = self.model
            self._module_name_cache = [getattr(m, "name", "") for m in _neuron_modules(model)] if model else []
        return self._module_name_cache

    def _write_epoch_outputs(self, model: nn.Module, *, draw: bool, force: bool = False) -> None:
        """best_model.pt (if changed) and latest.pt now; the logs unless written less than log_interval_s ago
        (then only marked due; `force` at switches, completion and flush)."""
        if not self._writes:
            return
        self._write_best_file()
        if self.opt("test_saves"):
            self._save_model_file(model, "latest", epoch_open=True, with_optimizer=True)
        now = time.monotonic()
        if not force and now - self._last_output < self.log_interval_s:
            self._outputs_due = True
            _DUE.add(self)
            return
        self._last_output, self._outputs_due = now, False
        self._write_logs(draw=draw)

    def _write_logs(self, *, draw: bool) -> None:
        """The CSVs, pai_run.json and (when due) the PNG: rendered from the state alone."""
        if self.making_graphs:
            self.files.write_csvs(self.state, self._module_names())
            if draw or self.state["completed"] or time.monotonic() - self._last_draw > PNG_INTERVAL_S:
                self.draw()
        self.files.write_summary(self.summary())

    def draw(self) -> Path | None:
        """Render <save>.png now (done automatically at switches and at the end)."""
        if not (self._writes and self.making_graphs):
            return None
        self._last_draw = time.monotonic()
        return self.files.write_png(self.state, zooming=self.zooming_graph)

    def summary(self) -> dict[str, Any]:
        """Our machine-readable run summary (written to <save_name>/pai_run.json every epoch)."""
        s = self.state
        return {
            "format": "pai_run/1", "save_name": self.save_name, "folder": str(self.folder),
            "status": "complete" if s["completed"] else "running", "completed": s["completed"],
            "completion_reason": s["completion_reason"],
            "capacity_test": bool(self.opt("testing_dendrite_capacity")),
            "doing_pai": s["doing_pai"], "maximizing_score": s["maximizing_score"],
            "epochs": len(s["accuracies"]), "total_epochs_trained": len(s["accuracies"]) + s["overwritten_epochs"],
            "dendrites": s["num_dendrites_added"], "dendrite_tries": s["num_dendrite_tries"],
            "best_validation_score": s["global_best_validation_score"]
            if s["global_best_validation_score"] is not None else s["current_best_validation_score"],
            "best_epoch": s["best_epoch"],
            "last_validation_score": s["accuracies"][-1] if s["accuracies"] else None,
            "switch_epochs": list(s["switch_epochs"]), "param_counts": list(s["param_counts"]),
            "best_arch_scores": best_arch_rows(s),
            "updated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }

    # ------------------------------------------------------------------ resume
    def load_state(self, model: nn.Module, name: str = "latest", *, advance: bool | None = None) -> bool:
        """Load checkpoint <folder>/<name>.pt into `model` and the tracker. Returns False if it does not exist."""
        return self.load_path(model, self.folder / f"{name}.pt", advance=advance)

    def load_path(self, model: nn.Module, path: Path, *, advance: bool | None = None) -> bool:
        """Load a checkpoint file into `model` and, if it carries one, the tracker state.

        `advance=None` moves to the next epoch only when the checkpoint was written mid-epoch (best_model,
        upstream files); `latest` is written after the epoch was closed and resumes exactly there.
        """
        if self._distributed():  # rank 0 reads, every rank receives (pai_core.distributed)
            from pai_core import distributed

            return distributed.load_path(self, model, path, advance)
        path = Path(path)
        self.flush()
        if not checkpoint_exists(path):
            return False
        tensors, meta = load_checkpoint(path)
        meta = meta or {}
        weights, opt_tensors, state_tensors = _split(tensors)
        load_into_model(model, weights, strict=bool(self.opt("strict_loading")),
                        not_save=list(self.opt("module_names_to_not_save") or []), source=str(path))
        if meta.get("state"):
            state = fresh_state(self.state["maximizing_score"], self.state["doing_pai"])
            state.update(unpack_state(state_tensors, meta["state"]))
            self.state = state
            if advance if advance is not None else not meta.get("epoch_open", False):
                self.state["num_epochs_run"] += 1
                self.state["total_epochs_run"] = self.state["num_epochs_run"] + self.state["overwritten_epochs"]
                self.state["epoch_last_improved"] = self.state["num_epochs_run"]
        if meta.get("optimizer"):
            self._pending_optimizer_state = (opt_tensors, meta["optimizer"])
        self._best = None  # re-read best_model.pt from disk when needed
        self._best_due = self._outputs_due = False
        self._stop_watch()
        self._model_ref = weakref.ref(model)
        _REGISTRY[model] = self
        self._epoch_started = time.perf_counter()
        logger.info("Loaded %s: epoch %d, %d dendrite(s).", path, self.state["num_epochs_run"],
                    self.state["num_dendrites_added"])
        return True

    def resume(self, model: nn.Module | None = None) -> bool:
        """Continue a killed run from <save_name>/latest.pt if it exists (losing at most the epoch in progress).

        Call right after perforate_model and before building the optimizer; returns whether a run was resumed.
        """
        model = model if model is not None else self.model
        return self.load_state(model, "latest")

    # ------------------------------------------------------------------ upstream compatibility
    def save_graphs(self, extra_string: str = "") -> Path | None:
        """Write the CSVs and <save><extra_string>.png now (pai also writes them on its own at switches and at
        the end); returns the PNG path."""
        if not (self._writes and self.making_graphs):
            return None
        self.flush()
        self.files.write_csvs(self.state, self._module_names(), extra_string)
        path = self.files.write_png(self.state, extra_string, zooming=self.zooming_graph)
        self.writer.flush()
        return path

    def generate_accuracy_plots(self, ax: Any = None, save_folder: Any = None, extra_string: str = "") -> None:
        """Upstream draws one panel into `ax`; pai draws its whole figure (scores, LR and times) instead."""
        self.save_graphs(extra_string)

    generate_learning_rate_plots = generate_time_plots = generate_accuracy_plots

    def generate_extra_csv_files(self, save_folder: Any = None, extra_string: str = "") -> None:
        """The CSVs with `extra_string` in their names."""
        if self._writes and self.making_graphs:
            self.files.write_csvs(self.state, self._module_names(), extra_string)
            self.writer.flush()

    def initialize(self, model: nn.Module, doing_pai: bool = True, save_name: str = "PAI", making_graphs: bool = True,
                   maximizing_score: bool = True, num_classes: int = 10_000_000_000, values_per_train_epoch: int = -1,
                   values_per_val_epoch: int = -1, zooming_graph: bool = True) -> nn.Module:
        """Upstream's `GPA.pai_tracker.initialize(model, ...)`: perforate `model` for a new run, return it."""
        from pai_core.perforate import perforate_model

        return perforate_model(model, doing_pai, save_name, making_graphs, maximizing_score, num_classes,
                               values_per_train_epoch, values_per_val_epoch, zooming_graph)

    def save_tracker_settings(self) -> None:
        """Upstream's DataParallel helper; nothing to do here (dendrite shapes live in the state_dict)."""

    def initialize_tracker_settings(self) -> None:
        """Upstream's DataParallel helper; nothing to do here."""

    addValidationScore = add_validation_score
    addExtraScore = add_extra_score
    addExtraScoreWithoutGraphing = add_extra_score_without_graphing
    addTestScore = add_test_score
    setOptimizer = set_optimizer
    setScheduler = set_scheduler
    setupOptimizer = setup_optimizer
    setOptimizerInstance = set_optimizer_instance
    startEpoch = start_epoch
    stopEpoch = stop_epoch
    saveGraphs = save_graphs
    saveTrackerSettings = save_tracker_settings
    initializeTrackerSettings = initialize_tracker_settings

    def __repr__(self) -> str:
        s = self.state
        return (f"Tracker(save_name={self.save_name!r}, epoch={s['num_epochs_run']}, "
                f"dendrites={s['num_dendrites_added']}, completed={s['completed']})")


class MemberVars(MutableMapping):
    """Dict-like view of a tracker's state plus the live optimizer/scheduler, like upstream's member_vars."""

    _LIVE = {"optimizer": "optimizer_class", "scheduler": "scheduler_class",
             "optimizer_instance": "optimizer", "scheduler_instance": "scheduler"}

    def __init__(self, tracker: Tracker):
        self._tracker = tracker

    def __getitem__(self, key: str) -> Any:
        if key in self._LIVE:
            return getattr(self._tracker, self._LIVE[key])
        return self._tracker.state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self._LIVE:
            setattr(self._tracker, self._LIVE[key], value)
        else:
            self._tracker.state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._tracker.state[key]

    def __iter__(self):
        yield from self._tracker.state
        yield from self._LIVE

    def __len__(self) -> int:
        return len(self._tracker.state) + len(self._LIVE)

    def __repr__(self) -> str:
        return f"member_vars({dict(self)!r})"


def attach_tracker(model: nn.Module, config: Any, *, save_name: str, maximizing_score: bool, doing_pai: bool = True,
                   making_graphs: bool = True, num_classes: int = 10_000_000_000, values_per_train_epoch: int = -1,
                   values_per_val_epoch: int = -1, zooming_graph: bool = True, resume: bool = False) -> Tracker:
    """Create the tracker of a freshly perforated model (called by perforate_model as its last step).

    `config` is the run's own copy: capacity-test overrides are applied to it, never to the defaults.
    With resume=True an existing <save_name>/latest.pt is loaded into the model and the tracker.
    """
    if config is not None and _get(config, "testing_dendrite_capacity", True):
        for name, value in _CAPACITY_OVERRIDES.items():
            try:
                setattr(config, name, value)
            except (AttributeError, TypeError, ValueError):
                logger.debug("could not apply capacity override %s", name)
    tracker = Tracker(model, config, save_name=save_name, maximizing_score=maximizing_score, doing_pai=doing_pai,
                      making_graphs=making_graphs, num_classes=num_classes,
                      values_per_train_epoch=values_per_train_epoch, values_per_val_epoch=values_per_val_epoch,
                      zooming_graph=zooming_graph)
    logger.info("Running a test of Dendrite Capacity." if tracker.opt("testing_dendrite_capacity")
                else "Running Dendrite Experiment")
    with _LOCK:
        _REGISTRY[model] = tracker
        _LATEST[:] = [tracker]
    if resume:
        tracker.resume(model)
    return tracker


def _get(config: Any, name: str, default: Any) -> Any:
    return getattr(config, name, default)


def tracker_for(model: nn.Module) -> Tracker | None:
    """The tracker attached to `model` (or to the model inside a DataParallel/DDP wrapper), else None."""
    tracker = _REGISTRY.get(model)
    if tracker is None and isinstance(getattr(model, "module", None), nn.Module):
        tracker = _REGISTRY.get(model.module)
    return tracker


def latest_tracker() -> Tracker:
    if not _LATEST:
        raise TrackerNotReadyError("No tracker exists yet: call UPA.perforate_model(model, ...) first; it creates "
                                   "the tracker that GPA.pai_tracker forwards to.")
    return _LATEST[0]


class _TrackerFacade:
    """`GPA.pai_tracker`: forwards every attribute to the most recently attached tracker."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(latest_tracker(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(latest_tracker(), name, value)

    def __repr__(self) -> str:
        return f"<pai_tracker -> {_LATEST[0]!r}>" if _LATEST else "<pai_tracker: no model perforated yet>"


pai_tracker = _TrackerFacade()


# ---------------------------------------------------------------------------------------------------------------
# UPA save / load functions (re-exported by utils_perforatedai)


def _tracker_or_none(net: nn.Module) -> Tracker | None:
    return tracker_for(net) or (_LATEST[0] if _LATEST else None)


def save_system(net: nn.Module, folder: str, name: str) -> Path:
    """Write <folder>/<name>.pt: the model's state_dict plus the tracker state, atomically. Returns the path."""
    if isinstance(net, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        net = net.module
    tracker = _tracker_or_none(net)
    path = Path(folder) / f"{name}.pt"
    if tracker is not None:
        tracker.flush()
    if not is_rank_zero():
        return path
    tensors = dict(net.state_dict())
    meta = None
    if tracker is not None:
        state_tensors, state_meta = pack_state(tracker.state)
        tensors.update(state_tensors)
        meta = {"state": state_meta, "epoch_open": True, "save_name": tracker.save_name}
    not_save = list(tracker.opt("module_names_to_not_save") or []) if tracker else [".base_model"]
    save_checkpoint(path, tensors, meta, not_save=not_save)
    return path


def load_system(net: nn.Module, folder: str, name: str, load_from_restart: bool = False, switch_call: bool = False,
                load_from_manual_save: bool = False) -> nn.Module:
    """Load <folder>/<name>.pt into the perforated `net` (dendrite counts resized) and restore its tracker.

    Upstream's resume recipe `model = UPA.load_system(model, save_name, "latest", True)` continues a killed run
    at the epoch after the last completed one. Returns `net` (same object).
    """
    if isinstance(net, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        raise WrappedModelError("load_system got a DataParallel/DDP wrapper; pass the bare model (`model.module`) "
                                "and wrap it again afterwards.")
    path = Path(folder) / f"{name}.pt"
    tracker = _tracker_or_none(net)
    if tracker is None:
        from pai_core.checkpoint import CheckpointError

        tensors, _ = load_checkpoint(path)
        weights = _split(tensors)[0]
        load_into_model(net, weights, strict=True, source=str(path))
        if not weights:
            raise CheckpointError(f"{path} holds no weights.")
        return net
    advance = False if (switch_call or load_from_manual_save) else None
    if not tracker.load_path(net, path, advance=advance):
        from pai_core.checkpoint import CheckpointError

        raise CheckpointError(f"No checkpoint at {path}. Check the save_name/folder and the checkpoint name "
                              "('latest', 'best_model', ...).")
    return net


def load_pretrained_model(net: nn.Module, folder: str, name: str,
                          remove_dendrite_scaffolding: bool = False) -> nn.Module:
    """Load trained weights (dendrites included) and start a fresh run history on top of them.

    With `remove_dendrite_scaffolding=True` the result is instead a lean inference copy (pai_core.deploy):
    eval mode, no tracker, no training-only state, fused where the math allows.
    """
    tracker = _tracker_or_none(net)
    path = Path(folder) / f"{name}.pt"
    tensors, _ = load_checkpoint(path)
    weights = _split(tensors)[0]
    strict = bool(tracker.opt("strict_loading")) if tracker else True
    load_into_model(net, weights, strict=strict, source=str(path))
    if tracker is not None:
        tracker.state = fresh_state(tracker.state["maximizing_score"], tracker.state["doing_pai"])
        tracker._best = None
        tracker._best_due = False
    if remove_dendrite_scaffolding:
        from pai_core.deploy import to_inference

        return to_inference(net)
    return net
