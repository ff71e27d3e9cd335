"""The dendrite-growth tracker: fed one validation score per epoch, it keeps the best model, decides when learning
has plateaued, restores the best weights and grows one dendrite in every perforated module, and says when the
run is complete.

A small coordinator over single-purpose modules: `run_state` (the typed state), `switch_policy` (the pure
decision), `growth` (adding dendrites), `run_checkpoints` (checkpoint files and the in-memory best), `run_logs`
(CSVs, PNG, pai_run.json and when they are written), `tracker_registry` (model -> tracker, `GPA.pai_tracker`)
and, under torch.distributed, `distributed` (rank 0 decides, every rank follows). One Tracker per perforated
model; it reads only its run's own config copy, never the process-wide defaults.

Deliberate differences from upstream 3.2.9 (all documented in the README of pai_core):
- "best so far" starts as None, not 0, so negative scores and losses work (switch_policy).
- No learning-rate search (find_best_lr is accepted and logged once): upstream's search can block every later
  switch forever. Every run with finite patience ends.
- Errors are exceptions (pai_core.errors), never pdb or sys.exit; NaN/inf scores raise NonFiniteScoreError.
- A score before any optimizer is registered is fine: its learning rate is recorded as empty.
- state.switch_epochs / param_counts (member_vars, pai_run.json) hold ONE entry per switch; only the CSVs
  repeat each switch row twice, byte-compatible with upstream readers.
- Checkpoints are written every epoch before add_validation_score returns (run_checkpoints); the logs at most
  every second (run_logs).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pai_core import growth
from pai_core import optim as _optim
from pai_core import switch_policy as policy
from pai_core.checkpoint import atomic_write_bytes, checkpoint_exists, load_into_model
from pai_core.distributed import is_distributed, is_rank_zero
from pai_core.errors import OptimizerNotRebuiltError, WrappedModelError
from pai_core.options import LIST_OPTIONS, OPTIONS
from pai_core.run_checkpoints import RunCheckpoints, load_pretrained_model, load_system, read, save_system
from pai_core.run_files import RunFiles, best_arch_rows, timestamp
from pai_core.run_logs import RunLogs
from pai_core.run_state import RunState
from pai_core.scores import as_score
from pai_core.switch_policy import (
    DOING_FIXED_SWITCH,
    DOING_HISTORY,
    DOING_NO_SWITCH,
    DOING_SWITCH_EVERY_TIME,
    SWITCH_MODE_NAMES,
    Action,
    Policy,
)
from pai_core.tracker_registry import latest_tracker, pai_tracker, register, tracker_for, with_camel_case_names

logger = logging.getLogger("pai_core.tracker")

CAPACITY_SUCCESS = ("Successfully added 3 dendrites with GPA.pc.set_testing_dendrite_capacity(True) (default). "
                    "You may now set that to False and run a real experiment.")

_CAPACITY_OVERRIDES = {"switch_mode": DOING_SWITCH_EVERY_TIME, "retain_all_dendrites": True,
                       "max_dendrite_tries": 1000, "max_dendrites": 1000}


@with_camel_case_names
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
        self.state = RunState(maximizing_score=bool(maximizing_score), doing_pai=bool(doing_pai))
        self._model_ref = weakref.ref(model)
        self.optimizer_class: type | None = None
        self.scheduler_class: type | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self._awaiting_optimizer = False  # True after a restructure dropped the registered optimizer
        self._watch: _optim.NewParameterWatch | None = None  # are the last restructure's parameters training?
        self.scheduler: Any = None
        self.pending_optimizer_state: tuple[dict, dict] | None = None
        self._local_call = False  # True while rank 0 runs the single-process logic (pai_core.distributed)
        self._epoch_started = time.perf_counter()
        self._manual_train_start: float | None = None
        self._manual_val_start: float | None = None
        self._lr_note_logged = False
        self.checkpoints = RunCheckpoints(self.folder, self.save_name)
        self.files = RunFiles(self.folder, self.save_name, extra_graphs=bool(self.opt("drawing_extra_graphs")),
                              writer=self.checkpoints.writer)
        self._module_name_cache: list[str] | None = None
        me = weakref.ref(self)  # the logs outlive nothing: they read the tracker's state when they write
        self.logs = RunLogs(self.files, state=lambda: me().state, summary=lambda: me().summary(),
                            module_names=lambda: me()._module_names(), making_graphs=making_graphs,
                            zooming=zooming_graph)

    # ------------------------------------------------------------------ config and identity
    def opt(self, name: str) -> Any:
        """The run config's value of option `name`, list-valued scalars indexed by dendrites added."""
        cfg, n = self.config, self.state.num_dendrites_added
        if cfg is not None and hasattr(cfg, "resolve"):
            try:
                return cfg.resolve(name, n)
            except (AttributeError, KeyError):
                pass
        default = OPTIONS[name].default if name in OPTIONS else None  # a plain object passed as config
        value = getattr(cfg, name, default) if cfg is not None else default
        if isinstance(value, (list, tuple)) and name not in LIST_OPTIONS:
            return value[min(len(value) - 1, n)] if value else None
        return value

    def policy(self) -> Policy:
        """The decision's options for the current number of dendrites."""
        return Policy.from_options(self.opt)

    @property
    def model(self) -> nn.Module | None:
        return self._model_ref()

    @property
    def member_vars(self) -> MemberVars:
        """Upstream's member_vars: a live dict-like view of the state (mode, num_dendrites_added, ...)."""
        return MemberVars(self)

    @property
    def writes(self) -> bool:
        """Only rank 0 writes the run folder."""
        return is_rank_zero()

    @property
    def writer(self):
        return self.checkpoints.writer

    @property
    def log_interval_s(self) -> float:
        return self.logs.interval_s

    @log_interval_s.setter
    def log_interval_s(self, seconds: float) -> None:
        self.logs.interval_s = float(seconds)

    @property
    def _not_save(self) -> list[str]:
        return list(self.opt("module_names_to_not_save") or [])

    def adopt(self, model: nn.Module) -> None:
        """From now on `model` is the tracked model object."""
        self._model_ref = weakref.ref(model)
        register(model, self)

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
            self.adopt(model)
        return model

    def _say(self, message: str) -> None:
        logger.info(message)
        if self.opt("verbose") and not self.opt("silent"):
            print(message)

    # ------------------------------------------------------------------ scores
    def add_extra_score(self, score: Any, name: str) -> None:
        """Record an extra per-epoch score (graphed and written to Scores.csv); call before add_validation_score."""
        self.state.extra_scores.setdefault(str(name), []).append(as_score(score, f"extra score {name!r}"))

    def add_extra_score_without_graphing(self, score: Any, name: str) -> None:
        """Record an extra per-epoch score that goes to the CSVs only."""
        self.state.extra_scores_without_graphing.setdefault(str(name), []).append(
            as_score(score, f"extra score {name!r}"))

    def add_test_score(self, score: Any, name: str) -> None:
        """A test score is an extra score that is also kept in test_scores."""
        value = as_score(score, f"test score {name!r}")
        self.state.extra_scores.setdefault(str(name), []).append(value)
        self.state.test_scores.setdefault(str(name), []).append(value)

    def add_loss(self, loss: Any) -> None:
        self.state.training_loss.append(as_score(loss, "loss"))

    def add_learning_rate(self, learning_rate: Any) -> None:
        self.state.training_learning_rates.append(as_score(learning_rate, "learning rate"))

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
        optimizer = _optim.build_optimizer(self.optimizer_class, params, args)
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
        if not self.state.accuracies:
            self._epoch_started = time.perf_counter()  # the first epoch starts once training can start
        if self.pending_optimizer_state is not None:
            if _optim.restore_optimizer(optimizer, scheduler, self.pending_optimizer_state):
                logger.info("Restored optimizer%s state from the resumed checkpoint.",
                            "/scheduler" if scheduler is not None else "")
            self.pending_optimizer_state = None
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
        self.state.manual_train_switch = True
        if self._manual_val_start is not None:
            self.state.n_val_times.append(now - self._manual_val_start)
            self._manual_val_start = None
        self._manual_train_start = now

    def stop_epoch(self, internal_call: bool = False) -> None:
        """Optional manual timing: call after training, before validation."""
        now = time.perf_counter()
        if self._manual_train_start is not None:
            self.state.n_train_times.append(now - self._manual_train_start)
            self._manual_train_start = None
        self._manual_val_start = now

    # ------------------------------------------------------------------ the epoch
    def switch_time(self) -> bool:
        """Whether this epoch ends the current dendrite round (switch_policy.switch_due)."""
        return policy.switch_due(self.state, self.policy())

    def check_ready(self) -> None:
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

    def _stop_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    @contextlib.contextmanager
    def deciding_locally(self):
        """Within this block the tracker runs its single-process logic (rank 0's decision)."""
        self._local_call = True
        try:
            yield self
        finally:
            self._local_call = False

    def _distributed(self) -> bool:
        """True when torch.distributed is initialized and this is not rank 0's own (local) decision."""
        return not self._local_call and is_distributed()

    def add_validation_score(self, score: Any, model: nn.Module, force_switch: bool = False):
        """Record this epoch's validation score; maybe grow dendrites. Returns (model, restructured, complete).

        Always keep using the returned model; when `restructured` is True rebuild the optimizer (and scheduler)
        over its parameters; when `training_complete` is True stop training: the model holds the best weights.
        """
        if self._distributed():  # every rank calls; rank 0 decides and broadcasts (pai_core.distributed)
            from pai_core import distributed

            return distributed.add_validation_score(self, score, model, force_switch)
        model = self._accept_model(model)
        score = as_score(score, "validation score")
        now = time.perf_counter()
        s = self.state
        if s.completed:  # e.g. a resumed run that had already finished
            return model, False, True
        self.check_ready()
        self._check_new_parameters_train()
        if not s.manual_train_switch:
            s.n_epoch_times.append(now - self._epoch_started)
        s.training_learning_rates.append(_optim.current_lr(self.optimizer))
        if not s.param_counts:
            s.param_counts.append(growth.count_params(model))

        rules = self.policy()
        if policy.observe(s, score, rules):
            self.checkpoints.keep_best(model, s, self._not_save)
        decision = policy.decide(s, rules, force_switch)
        action = decision.action
        if action is not Action.CONTINUE:
            self._carry_out(action, model)
        elif decision.step_scheduler and self.scheduler is not None:
            _optim.step_scheduler(self.scheduler, score)
        policy.close_epoch(self.state, action)  # a restore replaced self.state
        done = action.restructures or action.completes
        self._write_epoch_outputs(model, draw=done, force=done)
        if action.completes:
            self.flush()  # the caller stops now: every file must be on disk
        elif action.restructures:
            self.writer.flush()  # a switch is never lost to a kill: its files are on disk before we return
        self._epoch_started = time.perf_counter()
        return model, action.changes_model, action.completes

    # ------------------------------------------------------------------ switches
    def _carry_out(self, action: Action, model: nn.Module) -> None:
        """Do to the model (and the run folder) what the policy decided."""
        before = list(nn.Module.parameters(model))  # to tell the parameters a restructure adds
        self.checkpoints.write_best()  # switches read and copy checkpoint files
        self.writer.flush()
        self._module_name_cache = None
        s = self.state
        if action is Action.CAPACITY_TEST_PASSED:
            if not self.opt("silent"):
                print(CAPACITY_SUCCESS)
            logger.info(CAPACITY_SUCCESS)
        elif action is Action.RETRY:
            max_tries = int(self.opt("max_dendrite_tries"))
            self._say(f"The newest dendrites did not improve the best score; try {s.num_dendrite_tries + 2} of "
                      f"{max_tries} with fresh dendrites from the best model.")
        elif action is Action.NO_IMPROVEMENT:
            self._say(f"The newest dendrites did not improve the best score after {s.num_dendrite_tries + 1} tries: "
                      "training complete, the best model is loaded.")
        elif action is Action.EARLY_STOPPING:
            self._say("Validation plateaued: early stopping with the best model.")
        elif action is Action.MAX_DENDRITES:
            self._say(f"Last dendrites were good and this hit the max of {self.opt('max_dendrites')}.")

        if action in (Action.RETRY, Action.NO_IMPROVEMENT):
            self._snapshot(self.logs.unique(f"_{timestamp()}_noImprove_lr_0"))
        elif action in (Action.EARLY_STOPPING, Action.MAX_DENDRITES):
            self._snapshot("before_final")
        elif action is Action.GROW:
            self._write_before_switch(model)
        if action.restores_best:
            self._restore_best(model)
        if action.completes:
            policy.complete(self.state, action)
            self.clear_optimizer_and_scheduler()
            return
        policy.before_growth(self.state, action)
        self._grow(model)
        self.clear_optimizer_and_scheduler()
        self._stop_watch()
        self._watch = _optim.NewParameterWatch(model, before)
        if self.writes:
            self._save_model_file(model, f"switch_{2 * len(self.state.switch_epochs)}", epoch_open=False)

    def _write_before_switch(self, model: nn.Module) -> None:
        """Upstream's per-switch copies: CSVs, <save>_beforeSwitch_<k>.png and the checkpoints."""
        k = 2 * len(self.state.switch_epochs)
        self._snapshot(f"_beforeSwitch_{k}")
        if not self.writes:
            return
        self.logs.draw(f"_beforeSwitch_{k}")
        if self.opt("test_saves"):
            self._save_model_file(model, f"beforeSwitch_{k}", epoch_open=False)
            best = self.folder / "best_model.pt"
            if best.exists():
                atomic_write_bytes(self.folder / f"best_model_beforeSwitch_{k}.pt", best.read_bytes())

    def _grow(self, model: nn.Module) -> None:
        grew = growth.add_dendrite_everywhere(model, skip_unknown=bool(self.opt("checked_skipped_modules")))
        rules = self.policy()
        policy.grown(self.state, rules, growth.count_params(model))
        s = self.state
        self._say(f"Added dendrite {s.num_dendrites_added} to {grew} module(s) at epoch {s.num_epochs_run} "
                  f"({s.param_counts[-1]} parameters).")
        if rules.retain_all_dendrites:
            self.checkpoints.keep_best(model, s, self._not_save)

    def _restore_best(self, model: nn.Module) -> None:
        """Load the best weights into the same model object (dendrite counts resized) and rewind the state."""
        best = self.checkpoints.read_best(maximizing_score=self.state.maximizing_score,
                                          doing_pai=self.state.doing_pai)
        load_into_model(model, best.weights, strict=bool(self.opt("strict_loading")), not_save=self._not_save,
                        source="best_model")
        self.state = policy.rewound(self.state, best.state if best.state is not None else self.state.copy())

    # ------------------------------------------------------------------ persistence
    def _save_model_file(self, model: nn.Module, name: str, *, epoch_open: bool, with_optimizer: bool = False) -> None:
        optimizer = self.optimizer if with_optimizer else None
        self.checkpoints.write(model, self.state, name, epoch_open=epoch_open, not_save=self._not_save,
                               optimizer=optimizer, scheduler=self.scheduler if with_optimizer else None)

    def flush(self) -> None:
        """Write the logs deferred by log_interval_s, then wait until every file is on disk."""
        if self.writes:
            self.logs.catch_up()
        self.writer.flush()

    def _snapshot(self, extra: str) -> None:
        if self.writes:
            self.logs.snapshot(extra)

    def _module_names(self) -> list[str]:
        if self._module_name_cache is None:
            from pai_core.modules import neuron_modules

            model = self.model
            self._module_name_cache = [getattr(m, "name", "") for m in neuron_modules(model)] if model else []
        return self._module_name_cache

    def _write_epoch_outputs(self, model: nn.Module, *, draw: bool, force: bool = False) -> None:
        """best_model.pt (if changed) and latest.pt now; the logs when due (run_logs)."""
        if not self.writes:
            return
        self.checkpoints.write_best()
        if self.opt("test_saves"):
            self._save_model_file(model, "latest", epoch_open=True, with_optimizer=True)
        self.logs.epoch_closed(draw=draw, force=force)

    def draw(self) -> Path | None:
        """Render <save>.png now (done automatically at switches and at the end)."""
        return self.logs.draw() if self.writes else None

    def summary(self) -> dict[str, Any]:
        """Our machine-readable run summary (written to <save_name>/pai_run.json every epoch)."""
        s = self.state
        return {
            "format": "pai_run/1", "save_name": self.save_name, "folder": str(self.folder),
            "status": "complete" if s.completed else "running", "completed": s.completed,
            "completion_reason": s.completion_reason,
            "capacity_test": bool(self.opt("testing_dendrite_capacity")),
            "doing_pai": s.doing_pai, "maximizing_score": s.maximizing_score,
            "epochs": len(s.accuracies), "total_epochs_trained": len(s.accuracies) + s.overwritten_epochs,
            "dendrites": s.num_dendrites_added, "dendrite_tries": s.num_dendrite_tries,
            "best_validation_score": s.global_best_validation_score
            if s.global_best_validation_score is not None else s.current_best_validation_score,
            "best_epoch": s.best_epoch,
            "last_validation_score": s.accuracies[-1] if s.accuracies else None,
            "switch_epochs": list(s.switch_epochs), "param_counts": list(s.param_counts),
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
        loaded = read(path, maximizing_score=self.state.maximizing_score, doing_pai=self.state.doing_pai)
        load_into_model(model, loaded.weights, strict=bool(self.opt("strict_loading")), not_save=self._not_save,
                        source=str(path))
        if loaded.state is not None:
            self.state = loaded.state
            if advance if advance is not None else not loaded.epoch_open:
                s = self.state
                s.num_epochs_run += 1
                s.total_epochs_run = s.num_epochs_run + s.overwritten_epochs
                s.epoch_last_improved = s.num_epochs_run
        self.follow(self.state, model, pending_optimizer=loaded.optimizer)
        logger.info("Loaded %s: epoch %d, %d dendrite(s).", path, self.state.num_epochs_run,
                    self.state.num_dendrites_added)
        return True

    def follow(self, state: RunState, model: nn.Module, *, pending_optimizer: tuple[dict, dict] | None) -> None:
        """Take `state` (loaded, or rank 0's after a load) for `model`; the next optimizer gets `pending_optimizer`."""
        self.state = state
        if pending_optimizer is not None:
            self.pending_optimizer_state = pending_optimizer
        self.checkpoints.forget_best()
        self.logs.due = False
        self._stop_watch()
        self.adopt(model)
        self._epoch_started = time.perf_counter()

    def start_new_history(self) -> None:
        """A fresh run history on top of the weights the model now holds (load_pretrained_model)."""
        self.state = RunState(maximizing_score=self.state.maximizing_score, doing_pai=self.state.doing_pai)
        self.checkpoints.forget_best()

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
        if not (self.writes and self.making_graphs):
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
        if self.writes and self.making_graphs:
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

    def __repr__(self) -> str:
        s = self.state
        return (f"Tracker(save_name={self.save_name!r}, epoch={s.num_epochs_run}, "
                f"dendrites={s.num_dendrites_added}, completed={s.completed})")


class MemberVars(Mapping):
    """Dict-like view of a tracker's state plus the live optimizer/scheduler, like upstream's member_vars.

    Values can be read and assigned; keys are the RunState fields and cannot be added or deleted."""

    _LIVE = {"optimizer": "optimizer_class", "scheduler": "scheduler_class",
             "optimizer_instance": "optimizer", "scheduler_instance": "scheduler"}

    def __init__(self, tracker: Tracker):
        self._tracker = tracker

    def _target(self, key: str) -> tuple[Any, str]:
        if key in self._LIVE:
            return self._tracker, self._LIVE[key]
        if key in RunState.keys():
            return self._tracker.state, key
        raise KeyError(key)

    def __getitem__(self, key: str) -> Any:
        target, name = self._target(key)
        return getattr(target, name)

    def __setitem__(self, key: str, value: Any) -> None:
        target, name = self._target(key)
        setattr(target, name, value)

    def __iter__(self):
        yield from RunState.keys()
        yield from self._LIVE

    def __len__(self) -> int:
        return len(RunState.keys()) + len(self._LIVE)

    def __repr__(self) -> str:
        return f"member_vars({dict(self)!r})"


def attach_tracker(model: nn.Module, config: Any, *, save_name: str, maximizing_score: bool, doing_pai: bool = True,
                   making_graphs: bool = True, num_classes: int = 10_000_000_000, values_per_train_epoch: int = -1,
                   values_per_val_epoch: int = -1, zooming_graph: bool = True, resume: bool = False) -> Tracker:
    """Create the tracker of a freshly perforated model (called by perforate_model as its last step).

    `config` is the run's own copy: capacity-test overrides are applied to it, never to the defaults.
    With resume=True an existing <save_name>/latest.pt is loaded into the model and the tracker.
    """
    if config is not None and getattr(config, "testing_dendrite_capacity", True):
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
    register(model, tracker, latest=True)
    if resume:
        tracker.resume(model)
    return tracker


__all__ = ["CAPACITY_SUCCESS", "DOING_FIXED_SWITCH", "DOING_HISTORY", "DOING_NO_SWITCH", "DOING_SWITCH_EVERY_TIME",
           "SWITCH_MODE_NAMES", "MemberVars", "Tracker", "attach_tracker", "latest_tracker", "load_pretrained_model",
           "load_system", "pai_tracker", "save_system", "tracker_for"]
