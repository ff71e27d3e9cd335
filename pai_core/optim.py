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


class _SteadyStep:
    """Adam/AdamW with fused=True whose steady steps skip torch's per-step Python around the fused kernel.

    Each dendrite adds 3 + k parameter tensors per layer, and torch's fused step costs ~3 us a tensor in Python
    (`_init_group` walking each parameter's grad and state, regrouping by device, then `_foreach_add_` bumping
    every tensor's step count: ~1.5 us a tensor on CPU). Once a group's state exists, its parameters share one
    step buffer (each state["step"] is a view of it: one add_ bumps all), and a step hands the same tensors,
    in the same order and with the same hyper-parameters, to the same fused kernel, so the update is
    bit-identical to torch's. torch's own step runs instead, and the group is rebuilt after, whenever it
    would do something else: a closure, a missing or sparse gradient, a changed parameter list or state
    (load_state_dict, state.clear()), grad scaling, tensor betas or a non-CPU tensor lr, mixed devices or
    dtypes. Step hooks run as usual. state_dict() gives each step count its own tensor, as torch's does.
    """

    def step(self, closure: Any = None) -> Any:
        if closure is None and getattr(self, "grad_scale", None) is None and getattr(self, "found_inf", None) is None:
            steady = self.__dict__.setdefault("_steady", {})
            groups = [steady.get(id(group)) for group in self.param_groups]
            if all(kept is not None and kept.ready(self, group) for kept, group in zip(groups, self.param_groups)):
                with torch.no_grad():
                    for kept, group in zip(groups, self.param_groups):
                        kept.update(group)
                return None
        loss = _unhooked(torch.optim.Adam.step)(self, closure)  # torch's hooks already wrap this step
        self.__dict__["_steady"] = {id(group): kept for group in self.param_groups
                                    if (kept := _SteadyGroup.build(self, group)) is not None}
        return loss

    def state_dict(self) -> dict:
        state = super().state_dict()  # type: ignore[misc]
        state["state"] = {index: {**entry, "step": entry["step"].clone()} if isinstance(entry.get("step"), torch.Tensor)
                          and entry["step"]._base is not None else entry for index, entry in state["state"].items()}
        return state


def _unhooked(step: Any) -> Any:
    """torch wraps each optimizer class's step once with its hook runner; the function inside it."""
    return step.__wrapped__ if getattr(step, "hooked", False) else step


class _SteadyGroup:
    """One param group's tensors for _SteadyStep, gathered once."""

    def __init__(self, optimizer: Any, group: dict, steps: torch.Tensor) -> None:
        self.params, self.state, self.size = group["params"], optimizer.state, len(optimizer.state)
        entries = [optimizer.state[p] for p in self.params]
        self.exp_avgs = [entry["exp_avg"] for entry in entries]
        self.exp_avg_sqs = [entry["exp_avg_sq"] for entry in entries]
        self.max_exp_avg_sqs = [entry["max_exp_avg_sq"] for entry in entries] if group["amsgrad"] else []
        self.steps, self.step_views = steps, list(steps.unbind(0))
        for entry, view in zip(entries, self.step_views):
            entry["step"] = view
        self.amsgrad = group["amsgrad"]

    @classmethod
    def build(cls, optimizer: Any, group: dict) -> "_SteadyGroup | None":
        params = group["params"]
        if not params or not group["fused"] or group["differentiable"] or any(
                p.grad is None or len(optimizer.state.get(p, ())) == 0 for p in params):
            return None
        steps = [optimizer.state[p]["step"] for p in params]
        kinds = {(t.device, t.dtype) for t in params} | {(t.device, t.dtype) for t in (p.grad for p in params)}
        if len(kinds) != 1 or len({(s.device, s.dtype, s.shape) for s in steps}) != 1 or steps[0].dim():
            return None
        return cls(optimizer, group, torch.stack(steps))

    def ready(self, optimizer: Any, group: dict) -> bool:
        lr = group["lr"]
        return (group["params"] is self.params and optimizer.state is self.state and len(self.state) == self.size
                and group["amsgrad"] == self.amsgrad and len(self.params) == len(self.step_views)
                and not (isinstance(lr, torch.Tensor) and lr.device.type != "cpu")
                and not any(isinstance(beta, torch.Tensor) for beta in group["betas"])
                and all(p.grad is not None and not p.grad.is_sparse for p in self.params))

    def update(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        self.steps.add_(1)
        fused = torch._fused_adamw_ if group.get("decoupled_weight_decay") else torch._fused_adam_
        fused(self.params, [p.grad for p in self.params], self.exp_avgs, self.exp_avg_sqs, self.max_exp_avg_sqs,
              self.step_views, amsgrad=group["amsgrad"], lr=group["lr"], beta1=beta1, beta2=beta2,
              weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"], grad_scale=None,
              found_inf=None)


class Adam(_SteadyStep, torch.optim.Adam):
    """torch.optim.Adam with _SteadyStep's lighter steady steps; same name, same state_dict."""


class AdamW(_SteadyStep, torch.optim.AdamW):
    """torch.optim.AdamW with _SteadyStep's lighter steady steps; same name, same state_dict."""


STEADY = {torch.optim.Adam: Adam, torch.optim.AdamW: AdamW}


def build_optimizer(optimizer_class: type, params: list, args: dict) -> torch.optim.Optimizer:
    """`optimizer_class(params, **args)` with the fastest step: with_fast_step's choice and, for exactly
    torch's Adam/AdamW, the subclass of the same name with lighter steady steps (_SteadyStep)."""
    args = with_fast_step(optimizer_class, args, params)
    return STEADY.get(optimizer_class, optimizer_class)(params, **args)


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
