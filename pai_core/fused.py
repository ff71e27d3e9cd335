"""Fused dendrite compute for training and evaluation: a perforated Linear/Conv and its k copies in one node.

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

Calling the 1+k copies one by one makes 1+k module calls and, per dendrite, a handful of autograd nodes
whose backward sums the input gradients of every copy. `_FusedLayer` does the same arithmetic as one autograd
node: each copy's GEMM/convolution writes a fresh output, the dendrite activation and the per-channel mix
run in place on it, and backward writes each copy's weight gradient straight into its own tensor and
accumulates the input gradient in place (addmm_ for Linear). It saves the input and the k activations, the
same activations the unfused graph keeps. The parameters are the module's own (names, state_dict and
checkpoints unchanged).

Measured here (benchmarks/bench_dendrite_step.py, bench_inference.py): one wider GEMM over concatenated
weights was no faster on this CPU (MKL runs a 128x256x256 GEMM at full speed already, and the concatenation
and the strided block views cost more than the calls they save). In training, one-dendrite layers and
inputs smaller than MIN_TRAINING_INPUT values run the copies, because the Python of a custom backward costs
as much as the C++ autograd nodes there. Without gradients, convolutions with k >= 2 (groups 1) stack their
weights on every call, cheap beside their outputs, and run as one convolution in blocks of rows
(pai_core.fused_inference.in_blocks): 1.1-1.6x faster than the in-place copies at batch 8-128, k = 2-3; a
Linear's weights are as large as its outputs, so stacking them per call costs more than it saves, and
Linear layers keep the in-place copies (inference_layers.FusedDendrites stacks them once, at load time).

Layers this cannot express keep the copies: processors, module types other than exactly Linear/Conv1d/2d/3d,
padding modes other than zeros, string padding, dendrite activations other than sigmoid/tanh/relu. Switch it
off with `PAIConfig.fused_dendrites = False` (GPA.pc.set_fused_dendrites(False) before perforate_model) or
per module with `module.fuse_dendrites = False` (`set_fused(model, False)` for all); do so for double
backward (create_graph=True), which the fused node refuses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pai_core.fused_inference import exporting, in_blocks

__all__ = ["MIN_TRAINING_DENDRITES", "MIN_TRAINING_INPUT", "FusedSpec", "fused_forward", "plan", "set_fused", "worth_fusing"]

# With gradients on, layers with one dendrite and inputs smaller than MIN_TRAINING_INPUT values (e.g. batch 1)
# run the copies: there the Python of _FusedLayer.backward costs about what the autograd nodes it replaces do
# (benchmarks/bench_dendrite_step.py: k = 1 and batch 1 rows vs k >= 2 at batch 64 / 128).
MIN_TRAINING_DENDRITES = 2
MIN_TRAINING_INPUT = 8192

# dendrite activation -> its backward computed from the activation's output
_BACKWARDS = {
    "sigmoid": torch.ops.aten.sigmoid_backward.grad_input,
    "tanh": torch.ops.aten.tanh_backward.grad_input,
}
_ACTIVATIONS = {torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh",
                torch.relu: "relu", F.relu: "relu"}
_IN_PLACE = {"sigmoid": torch.sigmoid_, "tanh": torch.tanh_, "relu": torch.relu_}
_FUSABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)  # exact types: subclasses may change forward
_CONVS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}  # by spatial dimensions


def _relu_backward(grad: torch.Tensor, out: torch.Tensor, *, grad_input: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.threshold_backward.grad_input(grad, out, 0, grad_input=grad_input)


_BACKWARDS["relu"] = _relu_backward


@dataclass(frozen=True)
class FusedSpec:
    """What the fused path needs to know about one perforated layer (plain values: deep-copies and pickles)."""

    k: int
    channels: int
    activation: str
    conv: int  # 0: Linear, else the number of spatial dimensions
    bias: bool
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1


def _activation_name(activation: Any) -> str | None:
    if isinstance(activation, nn.Module):
        return {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu"}.get(type(activation)) \
            if not getattr(activation, "inplace", False) else None
    try:
        return _ACTIVATIONS.get(activation)
    except TypeError:  # unhashable callable
        return None


def plan(module: nn.Module) -> FusedSpec | None:
    """The FusedSpec of a PAINeuronModule whose main module and dendrites can run fused, else None."""
    k, channels = module.num_dendrites, module.out_channels
    if not k or channels is None or module.processor is not None or module._expand:
        return None
    activation = _activation_name(module.activation)
    main = module.main_module
    layers = list(module.dendrite_module.layers)
    if activation is None or type(main) not in _FUSABLE or any(type(layer) is not type(main) for layer in layers):
        return None
    dims = module.output_dimensions
    bias = main.bias is not None
    if any((layer.bias is not None) != bias or layer.weight.shape != main.weight.shape for layer in layers):
        return None
    if type(main) is nn.Linear:
        if dims.index(0) != len(dims) - 1 or main.out_features != channels:
            return None
        return FusedSpec(k, channels, activation, 0, bias)
    if dims.index(0) != 1 or main.out_channels != channels:
        return None
    conv = len(main.kernel_size)
    settings = ("stride", "padding", "dilation", "groups", "padding_mode")
    if main.padding_mode != "zeros" or isinstance(main.padding, str) or len(dims) != conv + 2 or any(
            getattr(layer, name) != getattr(main, name) for layer in layers for name in settings):
        return None
    return FusedSpec(k, channels, activation, conv, bias, tuple(main.stride), tuple(main.padding),
                     tuple(main.dilation), main.groups)


def set_fused(model: nn.Module, enabled: bool) -> None:
    """Turn the fused path on or off for every perforated module of `model`."""
    from pai_core.modules import neuron_modules

    for module in neuron_modules(model):
        module.fuse_dendrites = enabled


# ------------------------------------------------------------------------------------------------ the math
def _layer(spec: FusedSpec, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    if not spec.conv:
        return F.linear(x, weight, bias)
    return _CONVS[spec.conv](x, weight, bias, spec.stride, spec.padding, spec.dilation, spec.groups)


def _row(spec: FusedSpec, row: torch.Tensor) -> torch.Tensor:
    """C channel weights shaped to broadcast along the neuron axis (last for Linear, 1 for convolutions)."""
    return row.view(-1, *([1] * spec.conv)) if spec.conv else row


def _channel_sum(spec: FusedSpec, t: torch.Tensor) -> torch.Tensor:
    """Sum over every axis but the neuron axis: the gradient of a per-channel weight."""
    if not spec.conv:
        return t.reshape(-1, spec.channels).sum(0)
    return t.sum([0, *range(2, t.dim())])


def _dendrites(spec: FusedSpec, x: torch.Tensor, weights: tuple, biases: tuple, to_top: torch.Tensor,
               links: tuple) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(out, the k dendrite activations): every copy's output is a fresh tensor, so the math runs in place."""
    out = _layer(spec, x, weights[0], biases[0] if spec.bias else None)
    act = _IN_PLACE[spec.activation]
    acts: list[torch.Tensor] = []
    for i in range(spec.k):
        z = _layer(spec, x, weights[i + 1], biases[i + 1] if spec.bias else None)
        for j in range(i):
            z.addcmul_(_row(spec, links[i - 1][j]), acts[j])
        acts.append(act(z))
        out.addcmul_(_row(spec, to_top[i]), acts[i])
    return out, acts


class _FusedLayer(torch.autograd.Function):
    """One autograd node for a perforated layer; inputs: x, to_top, the 1+k weights, biases, then links."""

    @staticmethod
    def forward(ctx: Any, spec: FusedSpec, x: torch.Tensor, to_top: torch.Tensor, *params: torch.Tensor
                ) -> torch.Tensor:
        k = spec.k
        weights, biases = params[:k + 1], params[k + 1:2 * k + 2] if spec.bias else ()
        links = params[k + 1 + len(biases):]
        out, acts = _dendrites(spec, x, weights, biases, to_top, links)
        ctx.spec = spec
        ctx.save_for_backward(x, to_top, *weights, *links, *acts)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        spec: FusedSpec = ctx.spec
        k, needs = spec.k, ctx.needs_input_grad
        x, to_top, *rest = ctx.saved_tensors
        weights, links, acts = rest[:k + 1], rest[k + 1:2 * k], rest[2 * k:]
        backward = _BACKWARDS[spec.activation]
        grad_top = torch.stack([_channel_sum(spec, grad * a) for a in acts]) if needs[2] else None
        grad_links: list[torch.Tensor | None] = [None] * len(links)
        grad_z: list[torch.Tensor] = [grad] * (k + 1)  # the main output's gradient is `grad` itself
        for i in reversed(range(k)):
            grad_act = grad * _row(spec, to_top[i])
            for m in range(i + 1, k):
                grad_act.addcmul_(grad_z[m + 1], _row(spec, links[m - 1][i]))
            grad_z[i + 1] = backward(grad_act, acts[i], grad_input=grad_act)
            if i:
                grad_links[i - 1] = torch.stack([_channel_sum(spec, grad_z[i + 1] * acts[j]) for j in range(i)])
        del grad_act
        grad_x, grad_weights, grad_biases = _layer_backward(spec, grad_z, x, weights, needs[1])
        return (None, grad_x, grad_top, *grad_weights, *(grad_biases if spec.bias else ()), *grad_links)


def _consumed(grads: list) -> Any:
    """Each entry once, dropped from the list as it is handed out: a copy's output gradient is freed as soon
    as its weight and input gradients are computed (the unfused graph frees them node by node too)."""
    for i in range(len(grads)):
        g, grads[i] = grads[i], None
        yield g


def _layer_backward(spec: FusedSpec, grads: list[torch.Tensor], x: torch.Tensor, weights: tuple,
                    needs_x: bool) -> tuple[torch.Tensor | None, list[torch.Tensor], list[torch.Tensor]]:
    """(input gradient summed over the copies, each copy's weight gradient, each copy's bias gradient);
    empties `grads` as it goes."""
    grad_x = None
    grad_weights, grad_biases = [], []
    if not spec.conv:
        rows = x.reshape(-1, x.shape[-1])
        for g, w in zip(_consumed(grads), weights):
            g = g.reshape(-1, spec.channels)
            grad_weights.append(g.t() @ rows)
            if spec.bias:
                grad_biases.append(g.sum(0))
            if needs_x:
                grad_x = g @ w if grad_x is None else grad_x.addmm_(g, w)
        return (grad_x.view(x.shape) if grad_x is not None else None), grad_weights, grad_biases
    for g, w in zip(_consumed(grads), weights):
        gx, gw, gb = torch.ops.aten.convolution_backward(
            g, x, w, [w.shape[0]] if spec.bias else None, list(spec.stride), list(spec.padding),
            list(spec.dilation), False, [0] * spec.conv, spec.groups, [needs_x, True, spec.bias])
        grad_weights.append(gw)
        grad_biases.append(gb)
        if needs_x:
            grad_x = gx if grad_x is None else grad_x.add_(gx)
    return grad_x, grad_weights, grad_biases


# ------------------------------------------------------------------------------------------------ entry point
def worth_fusing(spec: FusedSpec, x: torch.Tensor) -> bool:
    """Whether the fused path is the faster one for input `x` (always without gradients)."""
    return not torch.is_grad_enabled() or (spec.k >= MIN_TRAINING_DENDRITES and x.numel() >= MIN_TRAINING_INPUT)


def fused_forward(module: nn.Module, spec: FusedSpec, x: torch.Tensor) -> torch.Tensor:
    """The output of PAINeuronModule `module` for input `x`, computed fused."""
    main = module.main_module
    layers = module.dendrite_module.layers
    weights = (main.weight, *(layer.weight for layer in layers))
    biases = (main.bias, *(layer.bias for layer in layers)) if spec.bias else ()
    links = tuple(module.dendrite_module.dendrites_to_dendrites)
    if torch.is_grad_enabled():
        return _FusedLayer.apply(spec, x, module.dendrites_to_top, *weights, *biases, *links)
    if _stack_in_evaluation(spec, x):
        return _stacked(spec, x, weights, biases, module.dendrites_to_top, links)
    return _dendrites(spec, x, weights, biases, module.dendrites_to_top, links)[0]


def _stack_in_evaluation(spec: FusedSpec, x: torch.Tensor) -> bool:
    return spec.conv > 0 and spec.k >= 2 and spec.groups == 1 and x.dim() == spec.conv + 2 and not exporting()


def _stacked(spec: FusedSpec, x: torch.Tensor, weights: tuple, biases: tuple, to_top: torch.Tensor,
             links: tuple) -> torch.Tensor:
    """No-grad output of a convolution and its copies: ONE convolution over the 1+k weights stacked (a
    convolution's weights are small beside its output, so stacking them on every call is cheap), run in
    blocks of rows (pai_core.fused_inference.in_blocks), each block activated and mixed in place."""
    weight = torch.cat(weights)
    bias = torch.cat(biases) if spec.bias else None
    act = _IN_PLACE[spec.activation]

    def mix(y: torch.Tensor, axis: int, out: torch.Tensor | None = None) -> torch.Tensor:
        parts = y.unflatten(axis, (spec.k + 1, spec.channels)).unbind(axis - 1)
        for i in range(1, spec.k + 1):
            for j in range(1, i):
                parts[i].addcmul_(_row(spec, links[i - 2][j - 1]), parts[j])
            act(parts[i])
        out = torch.addcmul(parts[0], _row(spec, to_top[0]), parts[1], out=out)
        for i in range(2, spec.k + 1):
            out.addcmul_(_row(spec, to_top[i - 1]), parts[i])
        return out

    return in_blocks(lambda rows: _layer(spec, rows, weight, bias), mix, x, -spec.conv - 1, spec.channels)
