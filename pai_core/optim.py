"""Optimizer / scheduler helpers of the tracker: building them over trainable parameters and packing their
state into a checkpoint so a resumed run continues with the same moments and learning rate."""
from __future__ import annotations

import inspect
import json
import logging
from typing import Any

import torch

logger = logging.getLogger("pai_core.tracker")

OPTIMIZER_PREFIX = "__optimizer__."


def trainable_params(params: Any, model: torch.nn.Module | None = None) -> list:
    """Keep only parameters that require grad; accepts a generator/list of tensors or of param-group dicts."""
    if params is None:
        if model is None:
            raise ValueError("setup_optimizer needs optim_args['params'] (e.g. model.parameters()).")
        params = model.parameters()
    if isinstance(params, torch.Tensor):
        params = [params]
    items = list(params)
    if items and all(isinstance(item, dict) for item in items):
        groups = []
        for group in items:
            kept = [p for p in _as_list(group.get("params", [])) if p.requires_grad]
            if kept:
                groups.append({**group, "params": kept})
        return groups
    if any(isinstance(item, dict) for item in items):
        raise TypeError("optim_args['params'] mixes tensors and param-group dicts; pass one kind.")
    return [p for p in items if p.requires_grad]


def _as_list(params: Any) -> list:
    return [params] if isinstance(params, torch.Tensor) else list(params)


FUSED_STEP = (torch.optim.Adam, torch.optim.AdamW)  # exact classes whose one-kernel-per-tensor step we ask for


def with_fast_step(optimizer_class: type, args: dict, params: list) -> dict:
    """Ask for the fastest implementation of the optimizer's step when the caller chose none.

    Every dendrite adds parameter tensors (a copy of the layer, plus its W and V weights), and on CPU torch's
    default is a per-tensor loop, so the step grows with the tensor count. Adam/AdamW get `fused=True` (one
    pass over each tensor; on CPU the multi-tensor form still makes a dozen passes, and its cost grows faster
    than the parameter count once they leave the cache: benchmarks/bench_dendrite_step.py) when every parameter
    is a real floating tensor on a device with fused kernels; other optimizers that have it get `foreach=True`.
    An explicit foreach/fused/differentiable choice wins.
    """
    if any(key in args for key in ("foreach", "fused")) or args.get("differentiable"):
        return args
    if optimizer_class in FUSED_STEP and params and all(_fusable(p) for p in _tensors(params)):
        return {**args, "fused": True}
    try:
        accepts = "foreach" in inspect.signature(optimizer_class).parameters
    except (TypeError, ValueError):  # builtins or exotic callables
        accepts = False
    return {**args, "foreach": True} if accepts else args


def _tensors(params: list) -> list[torch.Tensor]:
    if all(isinstance(item, dict) for item in params):
        return [p for group in params for p in _as_list(group.get("params", []))]
    return params


def _fusable(param: torch.Tensor) -> bool:
    from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

    return (isinstance(param, torch.Tensor) and param.is_floating_point() and not param.is_sparse
            and param.device.type in _get_fused_kernels_supported_devices())


def build_scheduler(scheduler_class: type, optimizer: torch.optim.Optimizer, sched_args: dict | None):
    """Instantiate the scheduler; SequentialLR takes {"schedulers": [(cls, kwargs), ...], "milestones": [...]}."""
    args = dict(sched_args or {})
    if scheduler_class is torch.optim.lr_scheduler.SequentialLR and "schedulers" in args:
        inner = [cls(optimizer, **kwargs) for cls, kwargs in args.pop("schedulers")]
        return scheduler_class(optimizer, schedulers=inner, **args)
    return scheduler_class(optimizer, **args)


def current_lr(optimizer: torch.optim.Optimizer | None) -> float | None:
    if optimizer is None or not optimizer.param_groups:
        return None
    lr = optimizer.param_groups[-1].get("lr")
    return float(lr.item() if isinstance(lr, torch.Tensor) else lr) if lr is not None else None


def step_scheduler(scheduler: Any, score: float) -> None:
    """Step the scheduler once per epoch; ReduceLROnPlateau gets the validation score."""
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(score)
    else:
        scheduler.step()


def pack_optimizer(optimizer: torch.optim.Optimizer | None, scheduler: Any = None) -> tuple[dict, dict | None]:
    """Split optimizer/scheduler state into tensors (for safetensors) and a JSON-able rest (for metadata)."""
    if optimizer is None:
        return {}, None
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict] = {}
    for index, entry in state["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{OPTIMIZER_PREFIX}{index}.{name}"] = value
            else:
                plain.setdefault(str(index), {})[name] = value
    meta: dict[str, Any] = {"class": type(optimizer).__name__, "param_groups": state["param_groups"],
                            "plain_state": plain}
    if scheduler is not None:
        try:
            sched_state = scheduler.state_dict()
            json.dumps(sched_state)
            meta["scheduler"] = {"class": type(scheduler).__name__, "state": sched_state}
        except (TypeError, ValueError, AttributeError):
            logger.debug("scheduler state of %s is not JSON-serialisable; not checkpointed", type(scheduler))
    return tensors, meta  # param_groups are JSON in practice; the checkpoint writer drops them if not


def unpack_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """Rebuild an optimizer state_dict from pack_optimizer's output."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        index, name = key[len(OPTIMIZER_PREFIX):].split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, entry in meta.get("plain_state", {}).items():
        state.setdefault(int(index), {}).update(entry)
    return {"state": state, "param_groups": meta["param_groups"]}


def restore_optimizer(optimizer: torch.optim.Optimizer, scheduler: Any, pending: tuple[dict, dict]) -> bool:
    """Load saved optimizer (and scheduler) state if it fits; returns whether it was applied."""
    tensors, meta = pending
    if meta.get("class") != type(optimizer).__name__:
        logger.warning("Saved optimizer state is for %s, not %s: starting the optimizer fresh.",
                       meta.get("class"), type(optimizer).__name__)
        return False
    try:
        optimizer.load_state_dict(unpack_optimizer(tensors, meta))
    except (ValueError, KeyError, RuntimeError) as exc:
        logger.warning("Saved optimizer state does not fit the new optimizer (%s): starting it fresh.", exc)
        return False
    saved = meta.get("scheduler")
    if scheduler is not None and saved and saved.get("class") == type(scheduler).__name__:
        try:
            scheduler.load_state_dict(saved["state"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("Saved scheduler state could not be restored (%s).", exc)
    return True


class NewParameterWatch:
    """Notices an optimizer that does not train the parameters a restructure added.

    An optimizer built over `model.parameters()` before a restructure keeps stepping the old parameters and
    never the new dendrites, so the run looks healthy while they stay frozen. At a restructure the tracker
    starts a watch over the new trainable parameters (a copy of each and a gradient hook); at the following
    scores a parameter that received a nonzero gradient but still holds its copied value is in no optimizer
    that steps. Costs one copy of the new parameters per switch and one hook call per new parameter per
    backward until the verdict, usually one epoch; nothing on the other epochs.
    """

    def __init__(self, model: torch.nn.Module, before: list, patience: int = 2):
        old = {id(p) for p in before}  # `before` holds the old parameters alive, so no id is reused meanwhile
        self.params = [(name, p, p.detach().clone()) for name, p in torch.nn.Module.named_parameters(model)
                       if p.requires_grad and id(p) not in old]
        self.touched: set[int] = set()
        self.patience = patience  # scores without any gradient evidence before the watch gives up
        self.handles = [p.register_post_accumulate_grad_hook(self._seen) for _, p, _ in self.params]

    def _seen(self, param: torch.Tensor) -> None:
        if id(param) not in self.touched and param.grad is not None and bool(param.grad.any()):
            self.touched.add(id(param))

    def verdict(self) -> list[str] | None:
        """Names of new parameters that got a gradient and never moved; None while there is no evidence yet."""
        stale = [name for name, p, start in self.params if id(p) in self.touched and torch.equal(p.detach(), start)]
        if stale or self.touched or not self.params:
            return stale
        self.patience -= 1
        return None if self.patience > 0 else []

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.params, self.handles = [], []
