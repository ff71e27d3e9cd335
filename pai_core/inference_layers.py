"""Lean eval-mode modules for a perforated layer: what pai_core.deploy puts in place of each PAINeuronModule.

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

- `FusedDendrites`: a Linear or Conv layer and its k dendrite copies become ONE layer with (k+1)*C outputs,
  built once: one matmul/convolution per call instead of k+1, then k cheap per-channel combinations. A
  BatchNorm after the layer is folded into its weights; a LayerNorm after a Linear and elementwise activations
  run once on the stacked output.
- `DendriteCopies`: any other module keeps its copies and calls them one after another (processors included).
- `dendrite_layer` picks between them (the layer itself when k = 0).
Each is an ordinary nn.Module: no tracker, no global state, traceable and exportable.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from pai_core.fused import has_hooks
from pai_core.fused_inference import DendriteMix, exporting, frozen, in_blocks

__all__ = ["DendriteCopies", "FusedDendrites", "StackedLayerNorm", "dendrite_layer"]

class _Combine(nn.Module):
    """The dendrite weights W and links V of a layer (`mix`, pai_core.fused_inference.DendriteMix)."""

    def __init__(self, to_top: torch.Tensor, links: list[torch.Tensor], dims: list[int],
                 activation: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        k, channels = to_top.shape
        self.num_dendrites = int(k)
        self.channels = int(channels)
        self.output_dimensions = list(dims)
        channel_shape = (-1,) + (1,) * (len(dims) - dims.index(0) - 1)  # broadcasts along the neuron axis
        self.mix = DendriteMix(to_top, links, channel_shape, activation)

    def extra_repr(self) -> str:
        return f"dendrites={self.num_dendrites}, channels={self.channels}, dims={self.output_dimensions}"


class FusedDendrites(_Combine):
    """A Linear/Conv unit and its dendrite copies evaluated as one layer with (k+1)*C output channels.

    `stacked` holds [main; d_1; ...; d_k] concatenated along the output channels (then, when the unit has them,
    a StackedLayerNorm and its elementwise activations), so one call gives the main output and every dendrite
    pre-activation as views. `blocked` (convolutions): eager batches run in blocks of rows
    (pai_core.fused_inference.in_blocks), which keeps each block's (1+k)-wide output in cache; exported files
    run the whole batch at once.
    """

    def __init__(self, stacked: nn.Module, to_top: torch.Tensor, links: list[torch.Tensor], dims: list[int],
                 activation: Callable[[torch.Tensor], torch.Tensor], blocked: bool = False) -> None:
        super().__init__(to_top, links, dims, activation)
        self.stacked = stacked
        self.axis = dims.index(0) - len(dims)  # negative: also right for unbatched inputs
        self.blocked = blocked

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.blocked and not exporting() and x.dim() == len(self.output_dimensions):
            return in_blocks(self.stacked, self.mix.stacked, x, self.axis, self.channels)
        return self.mix.stacked(self.stacked(x), self.axis)


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
            return self.processor.post_n2(self.mix.copies([out, *zs], fresh=False))
        return self.mix.copies([out, *(dendrite(*args, **kwargs) for dendrite in self.dendrites)], fresh=False)


_ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid,
                nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Identity, nn.Dropout)


class StackedLayerNorm(nn.Module):
    """k+1 LayerNorms over the last axis, one per block of C features of a stacked Linear's output."""

    def __init__(self, norms: list[nn.LayerNorm]) -> None:
        super().__init__()
        self.blocks, self.channels, self.eps = len(norms), norms[0].normalized_shape[0], norms[0].eps
        self.weight = frozen(torch.stack([n.weight for n in norms])) if norms[0].weight is not None else None
        self.bias = frozen(torch.stack([n.bias for n in norms])) if norms[0].bias is not None else None

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
    weights) or, after a Linear, a LayerNorm over its features, then any elementwise activations / dropout; no
    part with hooks of its own (they run only when the part itself is called).
    """
    parts = list(module.model) if type(module).__name__ == "PAISequential" else (
        list(module) if type(module) is nn.Sequential else [module])
    if not parts or any(map(has_hooks, (module, *parts))):
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
    stacked.weight = frozen(weight)
    if first.bias is not None:
        stacked.bias = frozen(torch.cat([layer.bias.detach() for layer in layers], dim=0))
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
            return FusedDendrites(stacked, to_top, links, dims, activation, blocked=channel_axis).eval()
    return DendriteCopies(main, dendrites, to_top, links, dims, activation, processor_class).eval()

