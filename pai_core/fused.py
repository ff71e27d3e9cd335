"""Fused dendrite compute for training and evaluation: a perforated Linear/Conv and its k copies in one node.

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

Calling the 1+k copies one by one makes 1+k module calls and, per dendrite, a handful of autograd nodes
whose backward sums the input gradients of every copy. `_FusedLayer` does the same arithmetic as one autograd
node. Forward: the main copy's GEMM/convolution, then the dendrites' (one convolution over the k copies'
concatenated weights for an ungrouped convolution, k GEMMs for Linear), with the dendrite activation and the
per-channel mix in place on those fresh outputs; it saves the input and the k activations, the same
activations the unfused graph keeps. Backward writes each dendrite's output gradient over its own saved
activation, takes the channel sums of the mixing weights' gradients through one scratch block, computes the
dendrites' weight and input gradients (one convolution_backward for a wide convolution), freeing each
activation's memory as soon as it is used, and the main copy's last. The parameters are the module's own
(names, state_dict and checkpoints unchanged).

Measured (benchmarks/bench_dendrite_step.py; 1 thread, a shared 2-core machine at load ~6, so +-15%; ratios to
the plain model, this version / the previous one (separate outputs, a k-block gradient buffer, the main copy
first) / the copies): CNN batch 128 k=2 2.96 / 3.52 / 3.89x, k=3 3.93 / 4.41 / 5.63x; batch 64 k=3 3.97 / 4.43
/ 4.78x; the MLP (256x3) is within noise of the previous version and of the copies (k=2 about 2.7-3.4x, k=3
3.9-4.5x): its step is GEMM-bound (1+k x the plain GEMMs cost about 3.15x at k=2 already) and the Adam step
over 1+k x the tensors is a fixed share. Peak memory of a batch-128 step (MiB, plain / this / previous /
copies): MLP k=2 0.64 / 1.68 / 2.06 / 1.69, k=3 0.64 / 2.21 / 2.70 / 2.23; CNN k=2 6.11 / 11.32 / 16.31 /
13.30, k=3 6.11 / 14.44 / 20.39 / 16.44. One wider GEMM over concatenated Linear weights measured no faster
(MKL already runs a 128x256x256 GEMM near peak; the concatenation copies the weights every step and the
strided blocks slow the element-wise work), so Linear keeps k GEMMs; inference_layers.FusedDendrites stacks
weights once, at load time. In training, one-dendrite layers and inputs smaller than MIN_TRAINING_INPUT values
run the copies, because the Python of a custom backward costs as much as the C++ autograd nodes there. Without
gradients, convolutions with k >= 2 (groups 1) stack their weights on every call, cheap beside their outputs,
and run as one convolution in blocks of rows (pai_core.fused_inference.in_blocks): 1.1-1.6x faster than the
in-place copies at batch 8-128, k = 2-3; a Linear's weights are as large as its outputs, so stacking them per
call costs more than it saves, and Linear layers keep the in-place copies (inference_layers.FusedDendrites
stacks them once, at load time).

The activations are the node's own (on ctx, not saved tensors), so `grad_fn.saved_tensors` shows only the
input and parameters, and backward frees each activation as it goes; a second backward through a retained
graph recomputes them from the saved input and weights.

Layers this cannot express keep the copies: processors, module types other than exactly Linear/Conv1d/2d/3d,
padding modes other than zeros, string padding, dendrite activations other than sigmoid/tanh/relu; and, call
by call, layers with hooks (pruning, activation capture, backward hooks, global module hooks), which run only
when the layer itself is called. Switch it
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
from torch.nn.modules import module as _nn_module

from pai_core.fused_inference import exporting, in_blocks

__all__ = ["MIN_TRAINING_DENDRITES", "MIN_TRAINING_INPUT", "FusedSpec", "fused_forward", "has_hooks", "plan", "set_fused",
           "worth_fusing"]

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


def _wide(spec: FusedSpec) -> bool:
    """Whether the k dendrite copies run as one convolution over their concatenated weights (k x C output
    channels): ungrouped ones (grouped, it would pair the wrong channels). Linear runs copy by copy: one wider
    GEMM measured no faster there, and the concatenation costs a copy of the weights (fused.py docstring)."""
    return bool(spec.conv) and spec.groups == 1


def _split(spec: FusedSpec, t: torch.Tensor, k: int) -> list[torch.Tensor]:
    """The k per-copy blocks (views) of a convolution output with k x C channels."""
    return list(t.chunk(k, 1)) if k > 1 else [t]


def _rows(t: torch.Tensor, batched: bool = True) -> tuple[torch.Tensor, ...]:
    """The rows of a (n, C) mixing weight. A single row stays (1, C), which broadcasts against batched outputs
    as (C,) does, without the indexing op (about 3 us a call, a tenth of a batch-1 Linear)."""
    return (t,) if t.shape[0] == 1 and batched else t.unbind(0)


def _cat(tensors: tuple) -> torch.Tensor:
    return torch.cat(tensors) if len(tensors) > 1 else tensors[0]


def _dendrites(spec: FusedSpec, x: torch.Tensor, weights: tuple, biases: tuple, links: tuple,
               to_top: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(out, what backward needs of the k dendrite activations: [one k x C-channel tensor] for a wide layer,
    else the k tensors). Every output is fresh, so the activation and the mix run in place on it."""
    out = _layer(spec, x, weights[0], biases[0] if spec.bias else None)
    if _wide(spec):
        stacked = _layer(spec, x, _cat(weights[1:]), _cat(biases[1:]) if spec.bias else None)
        zs, saved = _split(spec, stacked, spec.k), [stacked]
    else:
        zs = [_layer(spec, x, weights[i + 1], biases[i + 1] if spec.bias else None) for i in range(spec.k)]
        saved = zs
    act = _IN_PLACE[spec.activation]
    batched = bool(spec.conv) or x.dim() > 1
    for i, (z, row) in enumerate(zip(zs, _rows(to_top, batched))):
        if i:
            for j, link in enumerate(_rows(links[i - 1], batched)):
                z.addcmul_(_row(spec, link), zs[j])
        act(z)
        out.addcmul_(_row(spec, row), z)
    return out, saved


class _FusedLayer(torch.autograd.Function):
    """One autograd node for a perforated layer; inputs: x, to_top, the 1+k weights, biases, then links.

    The k activations live on ctx, not among the saved tensors, so only this node holds them: backward writes
    each dendrite's output gradient over its activation and frees each one as soon as it is used (no k-block
    gradient buffer beside the activations, which is what kept the fused peak memory above the copies'). A
    second backward through the same graph (retain_graph=True) recomputes them from the saved input and
    weights."""

    @staticmethod
    def forward(ctx: Any, spec: FusedSpec, x: torch.Tensor, to_top: torch.Tensor, *params: torch.Tensor
                ) -> torch.Tensor:
        out, acts = _dendrites(spec, x, *_unpack(spec, params), to_top)
        ctx.spec = spec
        ctx.acts = acts  # not saved tensors: nothing outside this node can reach them, so backward may free them
        ctx.save_for_backward(x, to_top, *params)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        spec: FusedSpec = ctx.spec
        k, needs = spec.k, ctx.needs_input_grad
        x, to_top, *params = ctx.saved_tensors
        weights, biases, links = _unpack(spec, params)
        saved, ctx.acts = ctx.acts, None
        if saved is None:  # retain_graph: the first backward spent the activations
            saved = _dendrites(spec, x, weights, biases, links, to_top)[1]
        grad = grad.contiguous()
        acts = _split(spec, saved[0], k) if _wide(spec) else saved
        scratch = torch.empty_like(grad)
        batched = bool(spec.conv) or x.dim() > 1
        rows, link_rows = _rows(to_top, batched), [_rows(link, batched) for link in links]
        top_grads: list[torch.Tensor] = []
        grad_links: list[torch.Tensor | None] = [None] * len(links)
        backward = _BACKWARDS[spec.activation]
        for i in reversed(range(k)):  # acts[m] for m > i already holds dendrite m's output gradient
            if needs[2]:
                top_grads.append(_channel_sum(spec, torch.mul(grad, acts[i], out=scratch)))
            torch.mul(grad, _row(spec, rows[i]), out=scratch)
            for m in range(i + 1, k):
                scratch.addcmul_(acts[m], _row(spec, link_rows[m - 1][i]))
            backward(scratch, acts[i], grad_input=acts[i])
            if i:
                grad_links[i - 1] = torch.stack([_channel_sum(spec, torch.mul(acts[i], acts[j], out=scratch))
                                                 for j in range(i)])
        del scratch
        grad_top = torch.stack(top_grads[::-1]) if needs[2] else None
        grad_x, grad_weights, grad_biases = _layer_backward(spec, grad, saved, x, weights, needs[1])
        return (None, grad_x, grad_top, *grad_weights, *(grad_biases if spec.bias else ()), *grad_links)


def _unpack(spec: FusedSpec, params: tuple) -> tuple[tuple, tuple, tuple]:
    """(the 1+k weights, their biases or (), the links) from _FusedLayer's parameter inputs."""
    k = spec.k
    biases = params[k + 1:2 * k + 2] if spec.bias else ()
    return params[:k + 1], biases, params[k + 1 + len(biases):]


def _conv_backward(spec: FusedSpec, grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, needs_x: bool
                   ) -> tuple:
    return torch.ops.aten.convolution_backward(
        grad, x, weight, [weight.shape[0]] if spec.bias else None, list(spec.stride), list(spec.padding),
        list(spec.dilation), False, [0] * spec.conv, spec.groups, [needs_x, True, spec.bias])


def _layer_backward(spec: FusedSpec, grad: torch.Tensor, saved: list, x: torch.Tensor, weights: tuple,
                    needs_x: bool) -> tuple[torch.Tensor | None, list[torch.Tensor], list[torch.Tensor]]:
    """(input gradient summed over the copies, each copy's weight gradient, each copy's bias gradient) from the
    main output's gradient `grad` and the dendrites' (laid out as the forward saved them, in `saved`). A wide
    convolution takes one convolution_backward for all k dendrites. Each dendrite gradient's memory is freed
    as soon as it is used, as the copies' graph frees its tensors node by node."""
    k = spec.k
    if not spec.conv:
        rows = x.reshape(-1, x.shape[-1])
        grad_x = None
        grad_weights, grad_biases = [], []
        for t, weight in zip((*saved, grad), (*weights[1:], weights[0])):  # the main copy last: all k freed
            block = t.reshape(-1, spec.channels)
            grad_weights.append(block.t() @ rows)
            if spec.bias:
                grad_biases.append(block.sum(0))
            if needs_x:
                grad_x = block @ weight if grad_x is None else grad_x.addmm_(block, weight)
            if t is not grad:
                _release(t)
        grad_weights.insert(0, grad_weights.pop())
        if spec.bias:
            grad_biases.insert(0, grad_biases.pop())
        return (grad_x.view(x.shape) if needs_x else None), grad_weights, grad_biases
    if _wide(spec):
        grad_x, gw, gb = _conv_backward(spec, saved[0], x, _cat(weights[1:]), needs_x)
        _release(saved[0])
        grad_weights, grad_biases = list(gw.chunk(k)), list(gb.chunk(k)) if spec.bias else [None] * k
    else:
        grad_x, grad_weights, grad_biases = None, [], []
        for g, w in zip(saved, weights[1:]):
            gx, gw, gb = _conv_backward(spec, g, x, w, needs_x)
            _release(g)
            grad_weights.append(gw)
            grad_biases.append(gb)
            if needs_x:
                grad_x = gx if grad_x is None else grad_x.add_(gx)
    gx, gw, gb = _conv_backward(spec, grad, x, weights[0], needs_x)  # the main copy last: all k freed
    grad_x = grad_x.add_(gx) if needs_x else None
    return grad_x, [gw, *grad_weights], [gb, *grad_biases]


def _release(t: torch.Tensor) -> None:
    """Free a spent activation's memory now rather than when autograd drops the node after backward (only
    _FusedLayer's backward holds it, see there)."""
    t.untyped_storage().resize_(0)


# ------------------------------------------------------------------------------------------------ entry point
def worth_fusing(spec: FusedSpec, x: torch.Tensor) -> bool:
    """Whether the fused path is the faster one for input `x` (always without gradients)."""
    return not torch.is_grad_enabled() or (spec.k >= MIN_TRAINING_DENDRITES and x.numel() >= MIN_TRAINING_INPUT)


def fused_forward(module: nn.Module, spec: FusedSpec, x: torch.Tensor) -> torch.Tensor | None:
    """The output of PAINeuronModule `module` for input `x`, computed fused; None when a hook must see the
    layer's calls (forward or backward hooks on its main module or a dendrite copy, or global module hooks:
    pruning, weight norm, activation capture), which only the copies make."""
    operands = _operands(module)
    if operands is None:
        return None
    layers, to_top, links = operands
    weights = tuple(layer["weight"] for layer in layers)
    biases = tuple(layer["bias"] for layer in layers) if spec.bias else ()
    if torch.is_grad_enabled():
        return _FusedLayer.apply(spec, x, to_top, *weights, *biases, *links)
    if _stack_in_evaluation(spec, x):
        return _stacked(spec, x, weights, biases, to_top, links)
    return _dendrites(spec, x, weights, biases, links, to_top)[0]


def has_hooks(module: nn.Module) -> bool:
    """Whether forward or backward hooks are registered on `module` itself (they run only if it is called)."""
    return bool(module._forward_pre_hooks or module._forward_hooks or module._backward_pre_hooks
                or module._backward_hooks)


def _operands(module: nn.Module) -> tuple[list[dict], torch.Tensor, tuple] | None:
    """(the 1+k layers' parameter dicts, W, the links V) of a PAINeuronModule, or None if any layer has hooks.

    Read from the modules' dicts: nn.Module.__getattr__ over 1+k layers and a ParameterList costs 15-20 us a
    call, as much as a batch-1 Linear (and the copies' module calls pay it too)."""
    if (_nn_module._global_forward_pre_hooks or _nn_module._global_forward_hooks
            or _nn_module._global_backward_pre_hooks or _nn_module._global_backward_hooks):
        return None
    dendrites = module._modules["dendrite_module"]._modules
    layers = [module._modules["main_module"], *dendrites["layers"]._modules.values()]
    if any(map(has_hooks, layers)):
        return None
    return ([m._parameters for m in layers], module._parameters["dendrites_to_top"],
            tuple(dendrites["dendrites_to_dendrites"]._parameters.values()))


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
    rows = [_row(spec, row) for row in to_top.unbind(0)]
    link_rows = [[_row(spec, row) for row in link.unbind(0)] for link in links]

    def mix(y: torch.Tensor, axis: int, out: torch.Tensor | None = None) -> torch.Tensor:
        parts = y.unflatten(axis, (spec.k + 1, spec.channels)).unbind(axis - 1)
        for i in range(1, spec.k + 1):
            for j in range(1, i):
                parts[i].addcmul_(link_rows[i - 2][j - 1], parts[j])
            act(parts[i])
        out = torch.addcmul(parts[0], rows[0], parts[1], out=out)
        for i in range(2, spec.k + 1):
            out.addcmul_(rows[i - 1], parts[i])
        return out

    return in_blocks(lambda rows: _layer(spec, rows, weight, bias), mix, x, -spec.conv - 1, spec.channels)
