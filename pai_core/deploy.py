"""Inference: a trained run's best weights in the user's own architecture, with lean dendrite modules.

Training wraps layers in PAINeuronModule (tracker hooks, candidates, shape discovery, processors' stash). None
of that is needed to serve the model, so `load_for_inference(model, run_dir)` takes a fresh, plain instance of
the user's architecture and replaces every perforated layer by the smallest module that computes

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

- `FusedDendrites`: a Linear or Conv layer and its k dendrite copies become ONE layer with (k+1)*C outputs,
  built once at load time: one matmul/convolution per call instead of k+1, then k cheap per-channel
  combinations. A BatchNorm after the layer is folded into its weights; a LayerNorm after a Linear and
  elementwise activations run once on the stacked output.
- `DendriteCopies`: any other module keeps its copies and calls them one after another (processors included).
- A layer with no dendrites is just the layer again.
The result is an ordinary eval-mode nn.Module: no tracker, no global state, traceable and exportable.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from pai_core.errors import CheckpointError

__all__ = [
    "DendriteCopies",
    "FusedDendrites",
    "StackedLayerNorm",
    "dendrite_layer",
    "find_checkpoint",
    "load_for_inference",
    "read_weights",
    "to_inference",
]

log = logging.getLogger(__name__)

_COUNT = "dendrite_module.dendrite_count"
_TRAINING_ONLY = ("__pai_state__.", "__optimizer__.")  # tracker history and optimizer state in tracker files


# ------------------------------------------------------------------------------------------------ the modules
def _weight_shape(dims: list[int], channels: int) -> tuple[int, ...]:
    """Shape that broadcasts one value per channel against an output laid out as `dims` (aligned right)."""
    node = dims.index(0)
    return (channels,) + (1,) * (len(dims) - node - 1)


def _frozen(tensor: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(tensor.detach().clone(), requires_grad=False)


class _Combine(nn.Module):
    """The dendrite weights W (`to_top`, k x C) and V (`links`, k x k x C, lower triangle) and their use."""

    def __init__(self, to_top: torch.Tensor, links: list[torch.Tensor], dims: list[int],
                 activation: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        k, channels = to_top.shape
        shape = _weight_shape(dims, channels)
        self.num_dendrites = int(k)
        self.channels = int(channels)
        self.output_dimensions = list(dims)
        self.activation = activation
        self.to_top = _frozen(to_top.reshape(k, *shape))
        table = torch.zeros(k, k, channels, dtype=to_top.dtype, device=to_top.device)
        for i, rows in enumerate(links, start=1):  # links[i-1] (shape (i, C)) feeds dendrite i
            table[i, :i] = rows
        self.links = _frozen(table.reshape(k, k, *shape)) if k > 1 else None

    def combine(self, out: torch.Tensor, zs: Iterable[torch.Tensor]) -> torch.Tensor:
        acts: list[torch.Tensor] = []
        for i, z in enumerate(zs):
            for j in range(i):
                z = torch.addcmul(z, self.links[i, j], acts[j])
            act = self.activation(z)
            acts.append(act)
            out = torch.addcmul(out, self.to_top[i], act)
        return out

    def extra_repr(self) -> str:
        return f"dendrites={self.num_dendrites}, channels={self.channels}, dims={self.output_dimensions}"


class FusedDendrites(_Combine):
    """A Linear/Conv unit and its dendrite copies evaluated as one layer with (k+1)*C output channels.

    `stacked` holds [main; d_1; ...; d_k] concatenated along the output channels (then, when the unit has them,
    a StackedLayerNorm and its elementwise activations), so one call gives the main output and every dendrite
    pre-activation; the slices are views, no copies. `split_above` (convolutions): eager batches larger than
    this run one convolution per copy on slices of the stacked weight instead, because oneDNN's wider
    convolution is slower than the separate ones there (benchmarks/bench_inference.py); exported files keep
    the stacked form, which is the faster one at the small batches they are usually served with.
    """

    def __init__(self, stacked: nn.Module, to_top: torch.Tensor, links: list[torch.Tensor], dims: list[int],
                 activation: Callable[[torch.Tensor], torch.Tensor], split_above: int | None = None) -> None:
        super().__init__(to_top, links, dims, activation)
        self.stacked = stacked
        self.axis = dims.index(0) - len(dims)  # negative: also right for unbatched inputs
        self.split_above = split_above

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.split_above is not None and not _exporting() and x.shape[0] > self.split_above:
            ys = self._per_copy(x)
            return self.combine(ys[0], ys[1:])
        y = self.stacked(x)
        c, axis = self.channels, self.axis
        zs = [y.narrow(axis, (i + 1) * c, c) for i in range(self.num_dendrites)]
        return self.combine(y.narrow(axis, 0, c), zs)

    def _per_copy(self, x: torch.Tensor) -> list[torch.Tensor]:
        parts = list(self.stacked) if isinstance(self.stacked, nn.Sequential) else [self.stacked]
        conv, rest, c = parts[0], parts[1:], self.channels
        ys = []
        for i in range(self.num_dendrites + 1):
            bias = conv.bias.narrow(0, i * c, c) if conv.bias is not None else None
            y = conv._conv_forward(x, conv.weight.narrow(0, i * c, c), bias)
            for module in rest:
                y = module(y)
            ys.append(y)
        return ys


def _exporting() -> bool:
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting()


class DendriteCopies(_Combine):
    """Any module with its k dendrite copies, called one after another (the generic, unfused form).

    `processor_class` (from the run's config) adapts modules that return tuples, as during training.
    """

    def __init__(self, main: nn.Module, dendrites: list[nn.Module], to_top: torch.Tensor,
                 links: list[torch.Tensor], dims: list[int], activation: Callable[[torch.Tensor], torch.Tensor],
                 processor_class: Callable[[], Any] | None = None) -> None:
        super().__init__(to_top, links, dims, activation)
        self.main = main
        self.dendrites = nn.ModuleList(dendrites)
        self.processor = processor_class() if processor_class is not None else None
        self.dendrite_processors = [processor_class() for _ in dendrites] if processor_class is not None else []

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.main(*args, **kwargs)
        if self.processor is not None:
            out = self.processor.post_n1(out)
            zs = []
            for dendrite, processor in zip(self.dendrites, self.dendrite_processors):
                d_args, d_kwargs = processor.pre_d(*args, **kwargs)
                zs.append(processor.post_d(dendrite(*d_args, **d_kwargs)))
            return self.processor.post_n2(self.combine(out, zs))
        return self.combine(out, [dendrite(*args, **kwargs) for dendrite in self.dendrites])


# ------------------------------------------------------------------------------------------------ fusion
STACKED_CONV_MAX_BATCH = 8  # larger eager batches run a stacked convolution copy by copy (see FusedDendrites)
_ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid,
                nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Identity, nn.Dropout)


class StackedLayerNorm(nn.Module):
    """k+1 LayerNorms over the last axis, one per block of C features of a stacked Linear's output."""

    def __init__(self, norms: list[nn.LayerNorm]) -> None:
        super().__init__()
        self.blocks, self.channels, self.eps = len(norms), norms[0].normalized_shape[0], norms[0].eps
        self.weight = _frozen(torch.stack([n.weight for n in norms])) if norms[0].weight is not None else None
        self.bias = _frozen(torch.stack([n.bias for n in norms])) if norms[0].bias is not None else None

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        z = torch.nn.functional.layer_norm(y.unflatten(-1, (self.blocks, self.channels)), (self.channels,),
                                           eps=self.eps)
        if self.weight is not None:
            z = z * self.weight
        if self.bias is not None:
            z = z + self.bias
        return z.flatten(-2)


def _unit(module: nn.Module) -> tuple[nn.Module, nn.LayerNorm | None, list[nn.Module]] | None:
    """(layer, layer norm, elementwise modules) of a stackable unit, else None.

    Stackable: a Linear or Conv (groups=1), optionally followed by an eval-mode BatchNorm (folded into the layer's
    weights) or, after a Linear, a LayerNorm over its features, then any elementwise activations / dropout.
    """
    parts = list(module.model) if type(module).__name__ == "PAISequential" else (
        list(module) if type(module) is nn.Sequential else [module])
    if not parts:
        return None
    layer, rest = parts[0], parts[1:]
    is_conv = isinstance(layer, nn.modules.conv._ConvNd) and not layer.transposed and layer.groups == 1
    if type(layer) is not nn.Linear and not is_conv:
        return None
    norm = None
    if rest and isinstance(rest[0], nn.modules.batchnorm._BatchNorm):
        bn, rest = rest[0], rest[1:]
        if not (bn.track_running_stats and bn.running_mean is not None and bn.affine):
            return None
        layer = fuse_conv_bn_eval(layer.eval(), bn.eval()) if is_conv else fuse_linear_bn_eval(layer.eval(), bn.eval())
    elif rest and isinstance(rest[0], nn.LayerNorm):
        norm, rest = rest[0], rest[1:]
        if is_conv or tuple(norm.normalized_shape) != (layer.out_features,):
            return None
    if not all(type(m) in _ELEMENTWISE for m in rest):
        return None
    return layer, norm, rest


def _stack(layers: list[nn.Module]) -> nn.Module:
    """One layer whose output channels are those of `layers`, in order."""
    first = layers[0]
    stacked = copy.deepcopy(first)
    weight = torch.cat([layer.weight.detach() for layer in layers], dim=0)
    stacked.weight = _frozen(weight)
    if first.bias is not None:
        stacked.bias = _frozen(torch.cat([layer.bias.detach() for layer in layers], dim=0))
    if isinstance(stacked, nn.Linear):
        stacked.out_features = weight.shape[0]
    else:
        stacked.out_channels = weight.shape[0]
    return stacked


def dendrite_layer(main: nn.Module, dendrites: list[nn.Module], to_top: torch.Tensor | None,
                   links: list[torch.Tensor], dims: list[int], activation: Callable[[torch.Tensor], torch.Tensor],
                   *, processor_class: Callable[[], Any] | None = None, fuse: bool = True) -> nn.Module:
    """The leanest eval-mode module computing `main` plus its dendrites (the layer itself when k = 0)."""
    main.eval()
    if not dendrites:
        return main
    for dendrite in dendrites:
        dendrite.eval()
    units = [_unit(module) for module in (main, *dendrites)] if fuse and processor_class is None else [None]
    if all(unit is not None for unit in units):
        first, norm, elementwise = units[0]
        node_last = dims.index(0) == len(dims) - 1
        channel_axis = isinstance(first, nn.modules.conv._ConvNd) and dims.index(0) == 1 \
            and len(dims) == first.weight.dim()
        if (isinstance(first, nn.Linear) and node_last) or channel_axis:
            parts = [_stack([unit[0] for unit in units])]
            if norm is not None:
                parts.append(StackedLayerNorm([unit[1] for unit in units]))
            parts.extend(elementwise)
            stacked = parts[0] if len(parts) == 1 else nn.Sequential(*parts)
            split_above = STACKED_CONV_MAX_BATCH if channel_axis else None
            return FusedDendrites(stacked, to_top, links, dims, activation, split_above).eval()
    return DendriteCopies(main, dendrites, to_top, links, dims, activation, processor_class).eval()


# ------------------------------------------------------------------------------------------------ reading files
def find_checkpoint(source: str | Path) -> Path:
    """The weights file of a run folder (best_model.pt) or the file itself."""
    path = Path(source).expanduser()
    if path.is_dir():
        best = path / "best_model.pt"
        if best.is_file():
            return best
        found = sorted(p.name for p in path.glob("*.pt")) + sorted(p.name for p in path.glob("*.safetensors"))
        listing = f" It holds {', '.join(found[:8])}; pass one of them explicitly." if found else (
            " It holds no checkpoint: pass the run folder named after save_name (default 'PAI') that a run with "
            "test_saves=True wrote, or a .pt/.safetensors file.")
        raise CheckpointError(f"No best_model.pt in {path}.{listing}")
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: pass a run folder (it holds best_model.pt) or a checkpoint "
                              "file (.pt or .safetensors).")
    return path


def read_weights(source: str | Path | Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(model weights, checkpoint metadata) of a run folder, a tracker/safetensors file or a torch.save file.

    Tracker history and optimizer state are dropped, and a DataParallel "module." prefix is removed.
    """
    meta: dict[str, Any] = {}
    if isinstance(source, Mapping):
        tensors = dict(source)
    else:
        path = find_checkpoint(source)
        meta["path"] = str(path)
        try:
            from pai_core.checkpoint import load_checkpoint

            tensors, tracker_meta = load_checkpoint(path)
            meta.update(tracker_meta or {})
        except CheckpointError:
            tensors = _torch_file(path)
    weights = {k: v for k, v in tensors.items() if isinstance(v, torch.Tensor) and not k.startswith(_TRAINING_ONLY)}
    if weights and all(k.startswith("module.") for k in weights):
        weights = {k[len("module."):]: v for k, v in weights.items()}
    if not weights:
        raise CheckpointError(f"{meta.get('path', 'the state dict')} holds no model weights.")
    return weights, meta


def _torch_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file gets the same advice
        raise CheckpointError(f"{path} is neither a safetensors checkpoint nor a torch.save'd state dict ({exc}). "
                              "Pass the best_model.pt of a run folder or a file of model.state_dict().") from exc
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
        return dict(obj)
    raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a state dict; save model.state_dict().")


def _run_config(meta: dict[str, Any]) -> Any:
    """The run's PAIConfig from <folder>/<save_name>_config.json beside the checkpoint, else the defaults."""
    from pai_core.config import PAIConfig

    path = meta.get("path")
    if path:
        folder = Path(path).parent
        named = folder / f"{meta.get('save_name') or folder.name}_config.json"
        candidates = [named] if named.is_file() else sorted(folder.glob("*_config.json"))
        if len(candidates) == 1:
            try:
                return PAIConfig.from_json_file(candidates[0])
            except Exception as exc:  # noqa: BLE001 - fall back to the defaults, loudly
                log.warning("could not read %s (%s); using the default dendrite activation", candidates[0], exc)
        log.warning("no <save_name>_config.json beside %s (capacity-test runs write none): assuming the default "
                    "dendrite activation and no processors; pass config=PAIConfig.from_json_file(...) or a config "
                    "with the run's pai_forward_function if the run changed them", path)
    return PAIConfig()


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
    config = config if config is not None else _run_config(meta)
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
