"""Inference: a trained run's best weights in the user's own architecture, with lean dendrite modules.

Training wraps layers in PAINeuronModule (tracker hooks, candidates, shape discovery, processors' stash). None
of that is needed to serve the model, so `load_for_inference(model, run_dir)` takes a fresh, plain instance of
the user's architecture (read from a run folder by pai_core.run_weights) and `to_inference(model)` a copy of a
live perforated one, and each replaces every perforated layer by the smallest module of
pai_core.inference_layers that computes it (a tracked layer becomes the plain layer again).
The result is an ordinary eval-mode nn.Module: no tracker, no global state, traceable and exportable.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pai_core.errors import CheckpointError
from pai_core.inference_layers import dendrite_layer
from pai_core.run_weights import read_weights, run_config

__all__ = ["load_for_inference", "to_inference"]

log = logging.getLogger(__name__)

_COUNT = "dendrite_module.dendrite_count"


def _processor_class(module: nn.Module, config: Any) -> Any:
    for cls, processor in zip(config.modules_with_processing, config.modules_processing_classes):
        if type(module) is cls:
            return processor
    for name, processor in zip(config.module_names_with_processing, config.module_by_name_processing_classes):
        if type(module).__name__ == name:
            return processor
    return None


# ------------------------------------------------------------------------------------------------ loading
def load_for_inference(model: nn.Module, source: str | Path | Mapping[str, torch.Tensor], *,
                       config: Any = None, fuse: bool = True, strict: bool = True) -> nn.Module:
    """Load a run's best weights into `model`, a fresh plain instance of the architecture that was perforated.

    `source` is a run folder (its best_model.pt is used), a checkpoint file (.pt written by the tracker,
    .safetensors, or a torch.save'd state dict) or a state dict. Perforated layers become FusedDendrites /
    DendriteCopies (see the module docstring; `fuse=False`: always DendriteCopies), tracked ones plain layers
    again. `config` (a PAIConfig) gives the
    dendrite activation and processors; by default it is read from the run's <save_name>_config.json.
    Returns the model in eval mode (the same object unless the root module itself was perforated).
    """
    from pai_core.modules import PAINeuronModule, TrackedNeuronModule

    if any(isinstance(m, (PAINeuronModule, TrackedNeuronModule)) for m in nn.Module.modules(model)):
        raise CheckpointError("load_for_inference takes a fresh PLAIN model (before perforate_model); this one is "
                              "perforated. For a perforated model in memory call to_inference(model) instead.")
    weights, meta = read_weights(source)
    config = config if config is not None else run_config(meta)
    where = meta.get("path", "the state dict")
    perforated, tracked = _wrapped_paths(model, weights)
    if not perforated and not tracked:
        log.warning("%s holds no dendrite layers: loading it as a plain state dict", where)

    def under(key: str, paths: Iterable[str]) -> str | None:
        return next((p for p in paths if p == "" or key == p or key.startswith(p + ".")), None)

    plain: dict[str, torch.Tensor] = {}
    for key, value in weights.items():
        if under(key, perforated) is not None:
            continue
        owner = under(key, tracked)
        if owner is not None:
            prefix = f"{owner}.main_module." if owner else "main_module."
            key = (f"{owner}." if owner else "") + key[len(prefix):]
        plain[key] = value
    try:
        result = model.load_state_dict(plain, strict=False)
    except RuntimeError as exc:  # shape mismatches raise even when not strict
        raise CheckpointError(f"{where} does not fit {type(model).__name__}: {exc}. Build the model with the same "
                              "arguments as in training.") from exc
    not_save = [p.lstrip(".") for p in getattr(config, "module_names_to_not_save", []) if p.lstrip(".")]
    missing = [k for k in result.missing_keys if under(k, perforated) is None
               and not any(k.startswith(p) for p in not_save)]
    if strict and (missing or result.unexpected_keys):
        raise CheckpointError(
            f"{where} does not fit {type(model).__name__}: missing keys {missing[:8]}, unexpected keys "
            f"{result.unexpected_keys[:8]}. Pass a fresh instance of the exact architecture that was given to "
            "perforate_model (after any modules_to_replace / PAISequential grouping), built with the same "
            "arguments, or strict=False to load what matches.")

    activation = config.pai_forward_function
    for path in sorted(perforated, key=len, reverse=True):
        main = model.get_submodule(path)
        prefix = f"{path}." if path else ""
        layer = dendrite_layer(*_parts(main, weights, prefix, where), activation,
                               processor_class=_processor_class(main, config), fuse=fuse)
        model = _replace(model, path, layer)
    return model.eval().requires_grad_(False)


def _wrapped_paths(model: nn.Module, weights: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Module paths of `model` that were perforated (dendrite count stored) or tracked (main_module keys)."""
    wrapper_prefixes: set[str] = set()
    for key in weights:
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if part == "main_module":
                wrapper_prefixes.add(".".join(parts[:i]))
    perforated, tracked = [], []
    for path, module in nn.Module.named_modules(model):
        if any(path.startswith(p + ".") or p == "" for p in (*perforated, *tracked)):
            continue
        prefix = f"{path}." if path else ""
        if prefix + _COUNT in weights:
            perforated.append(path)
        elif path in wrapper_prefixes and "main_module" not in module._modules:
            tracked.append(path)
    return perforated, tracked


def _parts(main: nn.Module, weights: Mapping[str, torch.Tensor], prefix: str,
           where: str) -> tuple[nn.Module, list[nn.Module], torch.Tensor | None, list[torch.Tensor], list[int]]:
    """(main, dendrite copies, W, V list, output dims) of the perforated layer stored under `prefix`."""
    def sub(start: str) -> dict[str, torch.Tensor]:
        return {k[len(start):]: v for k, v in weights.items() if k.startswith(start)}

    def load(module: nn.Module, start: str) -> nn.Module:
        try:
            module.load_state_dict(sub(start), strict=True)
        except RuntimeError as exc:
            raise CheckpointError(
                f"{where}: the layer {prefix.rstrip('.') or '(root)'} does not fit the stored weights under "
                f"{start!r}: {exc}. Build the model with the same arguments as in training.") from exc
        return module

    load(main, prefix + "main_module.")
    k = int(weights[prefix + _COUNT])
    dims = [int(v) for v in weights[prefix + "this_output_dimensions"].tolist()]
    dendrites = [load(copy.deepcopy(main), f"{prefix}dendrite_module.layers.{i}.") for i in range(k)]
    to_top = weights.get(prefix + "dendrites_to_top") if k else None
    links = [weights[f"{prefix}dendrite_module.dendrites_to_dendrites.{i}"] for i in range(k - 1)]
    like = next(iter(nn.Module.parameters(main)), weights[prefix + _COUNT].float())  # the model's device and dtype
    to_top = to_top.to(like) if to_top is not None else None
    links = [v.to(like) for v in links]
    return main, dendrites, to_top, links, dims


def _replace(model: nn.Module, path: str, new: nn.Module) -> nn.Module:
    if not path:
        return new
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, new)
    return model


def to_inference(model: nn.Module, *, fuse: bool = True) -> nn.Module:
    """An eval-mode inference copy of a live perforated model (the original, and its tracker, are untouched)."""
    from pai_core.modules import PAINeuronModule, TrackedNeuronModule

    if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    copied = copy.deepcopy(model)
    wrappers = [(path, m) for path, m in nn.Module.named_modules(copied)
                if isinstance(m, (PAINeuronModule, TrackedNeuronModule))]
    for path, wrapper in wrappers:
        if isinstance(wrapper, TrackedNeuronModule):
            layer = wrapper.main_module
        else:
            dm = wrapper.dendrite_module
            k = wrapper.num_dendrites
            links = [dm.dendrites_to_dendrites[i].detach() for i in range(k - 1)]
            to_top = wrapper.dendrites_to_top.detach() if k else None
            layer = dendrite_layer(wrapper.main_module, list(dm.layers), to_top, links,
                                   list(wrapper.output_dimensions), wrapper.activation,
                                   processor_class=wrapper.processor_class, fuse=fuse)
        copied = _replace(copied, path, layer)
    return copied.eval().requires_grad_(False)
