"""Dendrite layers without gradients: the fewest tensor ops for a layer and its k copies.

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

The compute under the deployed layers (pai_core.inference_layers), whose weights are frozen copies taken
at load time. (Eager evaluation keeps pai_core.fused's in-place copies: a cache of stacked weights there
would go stale, since fused Adam/AdamW steps update parameters without bumping their version counters.) At batch 1 a call is per-op dispatch, at batch 128 a convolution's
elementwise passes cost as much as the convolution, so (benchmarks/bench_inference.py, 1 thread):
- a Linear and its copies run as ONE matmul over the stacked weights [main; d_1; ...; d_k]; so does a
  convolution for inputs of at most STACK_MAX_BATCH rows, and a larger convolution input runs in blocks of
  that many rows, so that each block's (1+k)-wide output and the passes over it stay in cache (oneDNN's
  (1+k)-wide convolution over a whole batch of 64 is slower than the copies, the copies than the blocks);
- the activation runs once over the k dendrite blocks when no link V is nonzero (links start at zero), and
  only the nonzero link rows are applied;
- the mix is one reduction over the 1+k blocks (the main block weighted 1) for outputs of at most
  SMALL_OUTPUT values, else an in-place addcmul_ chain, which writes no (1+k)-wide temporary.
Everything after the matmul runs in place on its fresh output; while tracing or exporting, and for
activations with no in-place form, the same arithmetic runs out of place.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["SMALL_OUTPUT", "STACK_MAX_BATCH", "DendriteMix", "exporting", "frozen"]

STACK_MAX_BATCH = 8
SMALL_OUTPUT = 1 << 16

def exporting() -> bool:
    """Whether a tracer, torch.compile or torch.export is recording (they get the out-of-place form)."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting()


def _in_place(activation: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The in-place form of a sigmoid / tanh / relu dendrite activation (the ones pai_core.fused knows)."""
    from pai_core.fused import _IN_PLACE, _activation_name  # fused imports this module

    name = _activation_name(activation)
    return _IN_PLACE[name] if name is not None else None


def frozen(tensor: torch.Tensor) -> nn.Parameter:
    """A copy of `tensor` as a parameter that takes no gradient (state_dict, .to() and export see it)."""
    return nn.Parameter(tensor.detach().clone(), requires_grad=False)


class DendriteMix(nn.Module):
    """W and the nonzero links V of one perforated layer, frozen, and how they combine 1+k outputs.

    `top` is [1; W] (the main output weighted 1), shaped to broadcast one value per channel along the neuron
    axis; `link_rows[n]` is V_i[j] for `link_pairs[n] == (i, j)` (dendrites counted from 1).
    """

    def __init__(self, to_top: torch.Tensor, links: Sequence[torch.Tensor], channel_shape: tuple[int, ...],
                 activation: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        k = int(to_top.shape[0])
        self.num_dendrites, self.channels = k, int(to_top.shape[1])
        self.activation = activation
        self.activation_ = _in_place(activation)
        ones = torch.ones(1, *to_top.shape[1:], dtype=to_top.dtype, device=to_top.device)
        self.top = frozen(torch.cat([ones, to_top.detach()]).reshape(k + 1, *channel_shape))
        pairs, rows = [], []
        for i, block in enumerate(links, start=2):  # links[i-2] (shape (i-1, C)) feeds dendrite i
            for j, row in enumerate(block.detach(), start=1):
                if bool(row.any()):
                    pairs.append((i, j))
                    rows.append(frozen(row.reshape(channel_shape)))
        self.link_pairs = tuple(pairs)
        self.link_rows = nn.ParameterList(rows)

    def stacked(self, y: torch.Tensor, axis: int) -> torch.Tensor:
        """The output from `y`, a fresh tensor holding the 1+k outputs as blocks along `axis` (negative)."""
        k, channels = self.num_dendrites, self.channels
        if self.activation_ is None or y.requires_grad or exporting():
            return self._out_of_place([y.narrow(axis, i * channels, channels) for i in range(k + 1)])
        u = y.unflatten(axis, (k + 1, channels))
        block = axis - 1
        if self.link_pairs:
            self._activate(u.unbind(block))
        else:
            self.activation_(u.narrow(block, 1, k))
        if u.numel() <= SMALL_OUTPUT:
            return torch.linalg.vecdot(u, self.top, dim=block)
        return self._chain(u.unbind(block))

    def copies(self, parts: list[torch.Tensor], fresh: bool) -> torch.Tensor:
        """The output from the main output and the k dendrite outputs (`fresh`: they may be overwritten)."""
        if not fresh or self.activation_ is None or parts[0].requires_grad or exporting():
            return self._out_of_place(parts)
        self._activate(parts)
        return self._chain(parts)

    def _activate(self, parts: Sequence[torch.Tensor]) -> None:
        pairs, rows = self.link_pairs, self.link_rows
        n = 0
        for i in range(1, self.num_dendrites + 1):
            while n < len(pairs) and pairs[n][0] == i:
                parts[i].addcmul_(rows[n], parts[pairs[n][1]])
                n += 1
            self.activation_(parts[i])

    def _chain(self, parts: Sequence[torch.Tensor]) -> torch.Tensor:
        top = self.top
        out = torch.addcmul(parts[0], top[1], parts[1])
        for i in range(2, self.num_dendrites + 1):
            out.addcmul_(top[i], parts[i])
        return out

    def _out_of_place(self, parts: list[torch.Tensor]) -> torch.Tensor:
        acts: list[torch.Tensor] = [parts[0]]
        pairs, rows = self.link_pairs, self.link_rows
        n = 0
        for i in range(1, self.num_dendrites + 1):
            z = parts[i]
            while n < len(pairs) and pairs[n][0] == i:
                z = torch.addcmul(z, rows[n], acts[pairs[n][1]])
                n += 1
            acts.append(self.activation(z))
        out = parts[0]
        for i in range(1, self.num_dendrites + 1):
            out = torch.addcmul(out, self.top[i], acts[i])
        return out

    def extra_repr(self) -> str:
        return f"dendrites={self.num_dendrites}, links={len(self.link_pairs)}"
