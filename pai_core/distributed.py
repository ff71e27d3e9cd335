"""Perforated models under torch.distributed (DDP): one decision per epoch, made by rank 0 and broadcast.

Why: every rank holds a replica of the model. If each rank decided from its own validation score, one rank could
grow a dendrite while another does not, and DDP would hang or silently train different models. So when
torch.distributed is initialized, `Tracker.add_validation_score` (called on EVERY rank) does this instead of the
single-process path:

1. the ranks agree on one score (the mean of the scores they passed: pass your rank's score or an all-reduced
   one, the mean of equal values is that value) and on any input error, so a bad call raises on every rank
   instead of leaving the others waiting in a collective;
2. rank 0's tracker decides (switch, restructure, complete) and writes every file, exactly as a single process;
3. rank 0 broadcasts its decision and tracker state; after a restructure or at completion the other ranks take
   rank 0's dendrite structure and weights (`sync_model`), so all replicas stay identical (also before DDP is
   re-wrapped, and at completion, when the user does not re-wrap);
4. the same happens when a run resumes: rank 0 reads the checkpoint, the others receive it (no shared file
   system needed, so multi-node jobs resume too).

After `restructured=True` the DDP wrapper is stale (its reducer does not know the new dendrite parameters):
`rewrap_ddp(model, make_optimizer)` wraps the model again with the same DDP settings and rebuilds the optimizer
in one call. Single-process runs never reach this module.

The same code runs on CPUs with gloo and on GPUs with NCCL (call `torch.cuda.set_device(local_rank)` before the
first pai call: object collectives use the current device) and across nodes with torchrun (`--nnodes`,
`--rdzv_endpoint`); only global rank 0 writes, so its node holds the run folder. See skills/pai-distributed.
"""
from __future__ import annotations

import contextlib
import inspect
import logging
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from pai_core.errors import DistributedError, PAIError, StaleWrapperError

__all__ = ["get_rank", "get_world_size", "is_distributed", "is_rank_zero", "refresh_wrappers", "rewrap_ddp",
           "sync_model", "unwrap", "wrap_ddp"]

logger = logging.getLogger("pai_core.distributed")

# DDP settings carried from an old wrapper to the new one (attribute name = constructor argument name).
_CARRIED = ("device_ids", "output_device", "dim", "process_group", "find_unused_parameters",
            "gradient_as_bucket_view", "static_graph", "forward_sync_buffers")
_STALE: weakref.WeakSet[nn.Module] = weakref.WeakSet()  # DDP wrappers whose module was restructured since


# ---------------------------------------------------------------------------------------------- rank helpers
def is_distributed() -> bool:
    """True when torch.distributed is available and a process group is initialized."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    """This process's rank (0 when not distributed)."""
    import torch.distributed as dist

    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    """Number of processes in the job (1 when not distributed)."""
    import torch.distributed as dist

    return dist.get_world_size() if is_distributed() else 1


def is_rank_zero() -> bool:
    """True on the process that decides and writes files (always True when not distributed)."""
    return get_rank() == 0


def unwrap(model: nn.Module) -> nn.Module:
    """The perforated model inside a DDP/DataParallel wrapper (the model itself if it is not wrapped)."""
    if isinstance(model, (DistributedDataParallel, nn.DataParallel)):
        return model.module
    return model


# ---------------------------------------------------------------------------------------------- wrapping
def _ddp_settings(old: DistributedDataParallel | None, overrides: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(DistributedDataParallel.__init__).parameters
    settings: dict[str, Any] = {}
    if old is not None:
        for name in _CARRIED:
            if name in accepted and hasattr(old, name):
                settings[name] = getattr(old, name)
        if "bucket_cap_mb" in accepted and not getattr(old, "bucket_bytes_cap_default", True):
            settings["bucket_cap_mb"] = old.bucket_bytes_cap / (1024 * 1024)
    settings.update(overrides)
    return settings


def wrap_ddp(model: nn.Module, **ddp_kwargs: Any) -> DistributedDataParallel:
    """Wrap the perforated model in DistributedDataParallel; pass a stale wrapper to re-wrap its module.

    A stale wrapper's settings (device_ids, output_device, process_group, find_unused_parameters,
    static_graph, ...) are carried over; `ddp_kwargs` override them. find_unused_parameters is not needed for
    the dendrites: every dendrite parameter takes part in every forward (a new dendrite's output weight is zero,
    which still gives gradients), so it stays whatever the user chose for the base model. Wrapping broadcasts
    rank 0's parameters and buffers, and DDP checks that every rank has the same parameter shapes.
    """
    if not is_distributed():
        raise DistributedError("wrap_ddp needs an initialized process group: call "
                               "torch.distributed.init_process_group(...) first (torchrun sets the environment).")
    old = model if isinstance(model, DistributedDataParallel) else None
    bare = unwrap(model)
    if isinstance(model, nn.DataParallel):
        raise DistributedError("wrap_ddp got an nn.DataParallel wrapper; use one process per GPU with DDP instead "
                               "(pass `model.module`).")
    wrapped = DistributedDataParallel(bare, **_ddp_settings(old, ddp_kwargs))
    if old is not None:
        _retire(old)
    return wrapped


class _Retired:
    """Stands in for the reducer and logger of a DDP wrapper that a restructure made stale."""

    def __getattr__(self, name: str) -> Any:
        raise StaleWrapperError(
            "This DistributedDataParallel wrapper was built before the last restructure and no longer syncs the "
            "model's parameters. Use the wrapper returned by `pai_core.distributed.wrap_ddp(old_wrapper)` (or "
            "rewrap_ddp) instead: `ddp_model = wrap_ddp(ddp_model)` in the `if restructured:` branch.")


def _retire(wrapper: DistributedDataParallel) -> None:
    """Drop a stale wrapper's reducer (freed now with its buckets, not whenever the wrapper is collected) and
    make any later forward through it fail with the fix instead of leaving the new dendrites unsynchronised."""
    _STALE.add(wrapper)
    for name in ("reducer", "logger"):
        if name in wrapper.__dict__:
            wrapper.__dict__[name] = _Retired()


def rewrap_ddp(model: nn.Module, make_optimizer: Callable[[list[nn.Parameter]], Any],
               **ddp_kwargs: Any) -> tuple[DistributedDataParallel, Any]:
    """(new DDP wrapper, optimizer) in one call: the `if restructured:` branch of a DDP training loop.

    `make_optimizer(params)` gets the model's trainable parameters and returns an optimizer, or an
    (optimizer, scheduler) pair; it is returned as given. A plain optimizer is registered with the model's tracker
    (`set_optimizer_instance`) unless it is registered already (e.g. built by `setup_optimizer`). Also fine for
    the first wrap.
    """
    from pai_core.tracker_registry import tracker_for

    wrapped = wrap_ddp(model, **ddp_kwargs)
    bare = wrapped.module
    built = make_optimizer([p for p in nn.Module.parameters(bare) if p.requires_grad])
    optimizer = built[0] if isinstance(built, tuple) else built
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer must return a torch.optim.Optimizer (or an (optimizer, scheduler) pair), "
                        f"got {type(optimizer).__name__}; e.g. `lambda params: torch.optim.Adam(params, lr=1e-3)`.")
    tracker = tracker_for(bare)
    if tracker is not None and tracker.optimizer is not optimizer:
        tracker.set_optimizer_instance(optimizer)
    return wrapped, built


def refresh_wrappers(model: nn.Module) -> int:
    """Rebuild, in place, every DDP wrapper holding `model` after a restructure grew it; returns how many.

    For training loops the user does not own (the HF Trainer, Accelerate, Lightning): they keep the wrapper object
    in places no callback can reassign, so `wrap_ddp` (a new wrapper) cannot reach them. The same object is
    initialised again over the module with its own settings, so its reducer covers the new dendrite parameters
    and every reference the framework holds stays valid. Only needed (and only done) under torch.distributed.
    """
    import gc

    if not is_distributed():
        return 0
    wrappers = [o for o in gc.get_objects() if issubclass(type(o), DistributedDataParallel)
                and any(m is model for m in o.__dict__.get("_modules", {}).get("module", nn.Module()).modules())]
    for wrapper in wrappers:  # the wrapped module may be a framework's shell around the model (Lightning)
        if getattr(wrapper, "_comm_hooks", None):
            logger.warning("The DDP wrapper had a communication hook; it is not carried over when the wrapper is "
                           "rebuilt after a restructure (gradients are averaged as by default).")
        DistributedDataParallel.__init__(wrapper, wrapper.module, **_ddp_settings(wrapper, {}))
        _STALE.discard(wrapper)
    return len(wrappers)


# ---------------------------------------------------------------------------------------------- collectives
def _broadcast(obj: Any) -> Any:
    """Rank 0's `obj` on every rank (small Python objects only)."""
    import torch.distributed as dist

    box = [obj if is_rank_zero() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _gather(obj: Any) -> list[Any]:
    import torch.distributed as dist

    out: list[Any] = [None] * get_world_size()
    dist.all_gather_object(out, obj)
    return out


def _on_model_device(model: nn.Module):
    """NCCL's object collectives run on the current CUDA device: make it the model's for pai's collectives, so a
    script that forgot torch.cuda.set_device(local_rank) does not put every rank's messages on GPU 0."""
    for param in nn.Module.parameters(model):
        return torch.cuda.device(param.device) if param.is_cuda else contextlib.nullcontext()
    return contextlib.nullcontext()


def _raise_agreed(errors: list[tuple[str, str] | None], local: BaseException | None) -> None:
    """Every rank raises if any rank failed: its own error if it has one, else a DistributedError naming it."""
    if local is not None:
        raise local
    failed = [(rank, err) for rank, err in enumerate(errors) if err is not None]
    if failed:
        rank, (kind, message) = failed[0]
        raise DistributedError(f"Rank {rank} raised {kind}: {message}")


def _param_checksum(model: nn.Module) -> float:
    """A cheap fingerprint of the trainable weights, to catch replicas that drifted apart."""
    total = sum(p.detach().sum(dtype=torch.float64) for p in nn.Module.parameters(model) if p.requires_grad)
    return float(total)  # one device sync, not one per parameter


def _structure(model: nn.Module) -> list[tuple[int, int | None]]:
    from pai_core.modules import neuron_modules

    return [(m.num_dendrites, m.out_channels) for m in neuron_modules(model)]


def sync_model(model: nn.Module) -> None:
    """Give every rank rank 0's dendrite structure and weights (parameters and buffers), in place.

    Collective: call it on every rank. Used after restructures, completion and resume; DDP's own broadcast at
    wrap time does the same for parameters but cannot change the number of dendrites.
    """
    import torch.distributed as dist

    from pai_core.modules import neuron_modules

    bare = unwrap(model)
    structure = _broadcast(_structure(bare))
    modules = neuron_modules(bare)
    if len(structure) != len(modules):
        raise DistributedError(f"Rank {get_rank()} has {len(modules)} perforated modules, rank 0 has "
                               f"{len(structure)}: perforate the same model with the same settings on every rank.")
    for module, (count, channels) in zip(modules, structure):
        if (module.num_dendrites, module.out_channels) != (count, channels):
            logger.debug("rank %d: %s takes rank 0's %d dendrite(s)", get_rank(), module.name, count)
            module.set_num_dendrites(count, channels)
    with torch.no_grad():
        for tensor in bare.state_dict().values():
            dist.broadcast(tensor, src=0)


# ---------------------------------------------------------------------------------------------- tracker calls
def _prepare(tracker: Any, score: Any, model: nn.Module) -> tuple[float, nn.Module, BaseException | None]:
    """Local checks of one rank; errors are returned, not raised, so that every rank can raise together."""
    from pai_core.scores import as_score

    bare = unwrap(model)
    value = float("nan")
    try:
        if model in _STALE:
            raise StaleWrapperError(
                "add_validation_score got a DDP wrapper whose model was restructured since it was built: its "
                "reducer does not sync the new dendrite parameters, so the ranks drift apart. In the "
                "`if restructured:` branch re-wrap: `model, optimizer = pai_core.distributed.rewrap_ddp(model, "
                "make_optimizer)`.")
        if not isinstance(bare, nn.Module):
            raise TypeError(f"Expected the perforated nn.Module (or its DDP wrapper), got {type(model).__name__}.")
        value = as_score(score, "validation score")
        if not tracker.state.completed:
            tracker.check_ready()
    except (PAIError, TypeError) as exc:
        return value, bare, exc
    return value, bare, None


def add_validation_score(tracker: Any, score: Any, model: nn.Module, force_switch: bool = False):
    """The distributed `Tracker.add_validation_score` (see the module docstring). Collective: every rank calls it.

    Accepts the bare model or its DDP wrapper and returns what it got, so `model, restructured, complete =
    add_validation_score(score, ddp_model)` keeps working; after a restructure re-wrap with `rewrap_ddp`.
    """
    with _on_model_device(unwrap(model) if isinstance(model, nn.Module) else nn.Module()):
        return _add_validation_score(tracker, score, model, force_switch)


def _add_validation_score(tracker: Any, score: Any, model: nn.Module, force_switch: bool):
    value, bare, error = _prepare(tracker, score, model)
    gathered = _gather((value, _param_checksum(bare) if error is None else None,
                        None if error is None else (type(error).__name__, str(error)), bool(force_switch)))
    _raise_agreed([g[2] for g in gathered], error)
    checksums = {repr(g[1]) for g in gathered}  # repr: NaN weights compare equal to NaN weights
    if len(checksums) > 1:
        raise DistributedError(
            "The model parameters differ between ranks before this decision (checksums "
            f"{[g[1] for g in gathered]}). Train through the DDP wrapper (not the bare model), re-wrap after every "
            "restructure with pai_core.distributed.rewrap_ddp, and build the model identically on every rank.")
    scores = [g[0] for g in gathered]
    agreed = scores[0] if len(set(scores)) == 1 else sum(scores) / len(scores)
    force = any(g[3] for g in gathered)

    def decide() -> dict[str, Any]:
        scheduler = tracker.scheduler
        before = getattr(scheduler, "last_epoch", None)
        _, restructured, complete = tracker.add_validation_score(agreed, bare, force)
        stepped = scheduler is not None and getattr(scheduler, "last_epoch", None) != before
        return {"restructured": restructured, "complete": complete, "state": tracker.state,
                "stepped_scheduler": stepped}

    payload = _rank_zero_decides(tracker, decide, "in add_validation_score")
    restructured, complete = bool(payload["restructured"]), bool(payload["complete"])
    if not is_rank_zero():
        _follow(tracker, bare, payload, agreed)
    if restructured or complete:
        sync_model(bare)
    if restructured and not complete and isinstance(model, DistributedDataParallel):
        _retire(model)  # kept for evaluation after completion; re-wrapped (wrap_ddp) after a restructure
    return model, restructured, complete


def _rank_zero_decides(tracker: Any, decide: Callable[[], dict[str, Any]], during: str) -> dict[str, Any]:
    """Run `decide` with the single-process logic on rank 0 and give its result to every rank. An exception on
    rank 0 is broadcast too, so the other ranks raise instead of waiting in the next collective forever."""
    payload: dict[str, Any] | None = None
    if is_rank_zero():
        try:
            with tracker.deciding_locally():
                payload = {"error": None, **decide()}
        except BaseException as exc:
            _broadcast({"error": (type(exc).__name__, str(exc))})
            raise
    payload = _broadcast(payload)
    if payload["error"] is not None:
        kind, message = payload["error"]
        raise DistributedError(f"Rank 0 raised {kind} {during}: {message}")
    return payload


def _follow(tracker: Any, bare: nn.Module, payload: dict[str, Any], score: float) -> None:
    """A non-zero rank adopts rank 0's decision: same state, same scheduler step, same optimizer bookkeeping."""
    from pai_core import optim as _optim

    tracker.state = payload["state"]
    if payload["stepped_scheduler"] and tracker.scheduler is not None:
        _optim.step_scheduler(tracker.scheduler, score)
    if payload["restructured"] or payload["complete"]:
        tracker.clear_optimizer_and_scheduler()
    tracker.adopt(bare)


def load_path(tracker: Any, model: nn.Module, path: Any, advance: bool | None) -> bool:
    """The distributed `Tracker.load_path`: rank 0 reads the checkpoint, every rank receives model and state."""
    if isinstance(model, (DistributedDataParallel, nn.DataParallel)):
        raise DistributedError("Resume the bare perforated model (before wrapping it in DDP), e.g. "
                               "perforate_model(model, ..., resume=True) and then rewrap_ddp(model, ...).")
    with _on_model_device(model):
        return _load_path(tracker, model, path, advance)


def _load_path(tracker: Any, model: nn.Module, path: Any, advance: bool | None) -> bool:
    def decide() -> dict[str, Any]:
        found = tracker.load_path(model, path, advance=advance)
        return {"found": found, "state": tracker.state, "optimizer": tracker.pending_optimizer_state}

    payload = _rank_zero_decides(tracker, decide, f"while loading {path}")
    if not payload["found"]:
        return False
    if not is_rank_zero():
        tracker.follow(payload["state"], model, pending_optimizer=payload["optimizer"])
    sync_model(model)
    return True
