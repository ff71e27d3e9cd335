"""A run's checkpoints: weights, tracker state and optimizer state in one safetensors file per name.

`latest.pt` and `best_model.pt` are rewritten every epoch, so each keeps a cached byte layout: while no module
registered anything new and the optimizer keeps its state tensors, a checkpoint is one copy of all values and a
small JSON header, with no state_dict() walk. `latest.pt` is written on the training thread before the epoch
returns (the resume promise: a killed run loses at most the epoch in progress); the others go through the
background writer. The best model is also kept in memory, so restoring it reads no file.
Also upstream's `save_system` / `load_system` / `load_pretrained_model`.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from pai_core import optim as _optim
from pai_core import run_state
from pai_core.checkpoint import (
    TRACKER_KEY,
    BackgroundWriter,
    CheckpointError,
    CheckpointLayout,
    checkpoint_bytes,
    checkpoint_from_bytes,
    load_checkpoint,
    load_into_model,
    save_checkpoint,
    structure_generation,
    swap_write_bytes,
)
from pai_core.distributed import is_rank_zero
from pai_core.errors import WrappedModelError
from pai_core.run_state import STATE_PREFIX, RunState
from pai_core.tracker_registry import tracker_or_latest

logger = logging.getLogger("pai_core.run_checkpoints")

_EVERY_EPOCH = ("best_model", "latest")  # rewritten every epoch, each with its own cached layout


def split(tensors: dict[str, Any]) -> tuple[dict, dict, dict]:
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


@dataclass
class Loaded:
    """A checkpoint read back: what goes into the model, the tracker and the next optimizer."""

    weights: dict
    state: RunState | None
    optimizer: tuple[dict, dict] | None  # (tensors, meta) for optim.restore_optimizer
    epoch_open: bool


def read(path: Path | None = None, data: bytes | None = None, **defaults: Any) -> Loaded:
    """Read a checkpoint file (or its bytes); `defaults` fill state fields older checkpoints lack."""
    tensors, meta = checkpoint_from_bytes(data, "the in-memory best model") if data is not None \
        else load_checkpoint(path)
    meta = meta or {}
    weights, opt_tensors, state_tensors = split(tensors)
    state = run_state.unpack(state_tensors, meta["state"], **defaults) if meta.get("state") else None
    optimizer = (opt_tensors, meta["optimizer"]) if meta.get("optimizer") else None
    return Loaded(weights, state, optimizer, bool(meta.get("epoch_open", False)))


class RunCheckpoints:
    """The checkpoint files of one run folder, and the best model kept in memory."""

    def __init__(self, folder: Path, save_name: str):
        self.folder = folder
        self.save_name = save_name
        self.writer = BackgroundWriter()
        self.best: bytes | None = None  # the best model's checkpoint, for restores
        self.best_due = False  # `best` changed and best_model.pt is not written yet
        self._layouts: dict[str, tuple[tuple, CheckpointLayout]] = {}
        self._series_cache: dict[str, tuple[list, Any]] = {}  # see run_state.pack

    def to_bytes(self, model: nn.Module, state: RunState, name: str, *, epoch_open: bool,
                 not_save: list[str], optimizer: Any = None, scheduler: Any = None) -> bytes:
        """Weights, tracker state (and, given an optimizer, its state) as safetensors bytes."""
        opt_tensors, opt_meta = _optim.pack_optimizer(optimizer, scheduler) if optimizer is not None else ({}, None)
        series, state_meta = run_state.pack(state, self._series_cache)
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
            skip = tuple(p.lstrip(".") for p in not_save if p.lstrip("."))
            tensors = {k: v for k, v in model.state_dict(keep_vars=True).items()
                       if not (skip and k.startswith(skip))}
            tensors.update(opt_tensors)
            if not CheckpointLayout.supports(tensors):  # unusual dtypes: the general (slower) path
                return checkpoint_bytes({**tensors, **series}, meta)
            cached = self._layouts[slot] = (key, CheckpointLayout(tensors))
        return cached[1].to_bytes({"format": "pt", TRACKER_KEY: text}, series)

    def keep_best(self, model: nn.Module, state: RunState, not_save: list[str]) -> None:
        """The best model so far, in memory; best_model.pt follows with this epoch's latest.pt."""
        self.best = self.to_bytes(model, state, "best_model", epoch_open=False, not_save=not_save)
        self.best_due = True

    def write_best(self) -> None:
        """Write best_model.pt if the in-memory best is newer (a resumed run restores from it)."""
        if self.best_due and self.best is not None:
            swap_write_bytes(self.folder / "best_model.pt", self.best)
        self.best_due = False

    def read_best(self, **defaults: Any) -> Loaded:
        return read(data=self.best, **defaults) if self.best is not None \
            else read(self.folder / "best_model.pt", **defaults)

    def forget_best(self) -> None:
        """After a load: the best model is read from best_model.pt again when needed."""
        self.best, self.best_due = None, False

    def write(self, model: nn.Module, state: RunState, name: str, **kwargs: Any) -> None:
        """latest.pt now, on this thread (the resume promise); other checkpoints through the writer thread."""
        data = self.to_bytes(model, state, name, **kwargs)
        if name == "latest":
            swap_write_bytes(self.folder / "latest.pt", data)
        else:
            self.writer.submit(self.folder / f"{name}.pt", data)


# ------------------------------------------------------------------------------------------ upstream functions
def save_system(net: nn.Module, folder: str, name: str) -> Path:
    """Write <folder>/<name>.pt: the model's state_dict plus the tracker state, atomically. Returns the path."""
    if isinstance(net, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        net = net.module
    tracker = tracker_or_latest(net)
    path = Path(folder) / f"{name}.pt"
    if tracker is not None:
        tracker.flush()
    if not is_rank_zero():
        return path
    tensors = dict(net.state_dict())
    meta = None
    if tracker is not None:
        state_tensors, state_meta = run_state.pack(tracker.state)
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
    tracker = tracker_or_latest(net)
    if tracker is None:
        weights = read(path).weights
        load_into_model(net, weights, strict=True, source=str(path))
        if not weights:
            raise CheckpointError(f"{path} holds no weights.")
        return net
    advance = False if (switch_call or load_from_manual_save) else None
    if not tracker.load_path(net, path, advance=advance):
        raise CheckpointError(f"No checkpoint at {path}. Check the save_name/folder and the checkpoint name "
                              "('latest', 'best_model', ...).")
    return net


def load_pretrained_model(net: nn.Module, folder: str, name: str,
                          remove_dendrite_scaffolding: bool = False) -> nn.Module:
    """Load trained weights (dendrites included) and start a fresh run history on top of them.

    With `remove_dendrite_scaffolding=True` the result is instead a lean inference copy (pai_core.deploy):
    eval mode, no tracker, no training-only state, fused where the math allows.
    """
    tracker = tracker_or_latest(net)
    path = Path(folder) / f"{name}.pt"
    strict = bool(tracker.opt("strict_loading")) if tracker else True
    load_into_model(net, read(path).weights, strict=strict, source=str(path))
    if tracker is not None:
        tracker.start_new_history()
    if remove_dendrite_scaffolding:
        from pai_core.deploy import to_inference

        return to_inference(net)
    return net


__all__ = ["Loaded", "RunCheckpoints", "load_pretrained_model", "load_system", "read",
           "save_system", "split"]
