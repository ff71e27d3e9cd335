"""Dendrite layers without gradients: the fewest tensor ops for a layer and its k copies.

    out = main(x) + sum_i W[i] * act(d_i(x) + sum_{j<i} V_i[j] * a_j)

The compute under the deployed layers (pai_core.inference_layers), whose weights are frozen copies taken
at load time; `in_blocks` also runs eager evaluation's stacked convolutions (pai_core.fused stacks their
weights on every call: a cache would go stale, since fused Adam/AdamW steps update parameters without
bumping their version counters). At batch 1 a call is per-op dispatch, at batch 128 a convolution's elementwise
passes cost as much as the convolution, and fresh multi-MB outputs cost page faults (glibc hands large freed
blocks back to the OS), so (benchmarks/bench_inference.py, 1 thread):
- a Linear and its copies run as ONE matmul over the stacked weights [main; d_1; ...; d_k], and so does a
  convolution, in blocks of rows whose (1+k)-wide output holds about BLOCK_BYTES (1 MiB measured best of
  256 KiB-4 MiB at batch 64/128), each block mixed straight into its rows of the one output: the blocks
  reuse one buffer and stay in cache (a (1+k)-wide convolution over a whole batch of 64 is slower than
  the copies);
- the activation runs once over the k dendrite blocks when no link V is nonzero (links start at zero), and
  only the nonzero link rows are applied;
- the mix is one reduction over the 1+k blocks (the main block weighted 1) for at most SMALL_BATCH rows,
  where per-op dispatch dominates, else an in-place addcmul_ chain, which writes no (1+k)-wide temporary
  (the chain measured 10-35% faster from 4 rows up, the reduction up to 25% faster at 1 row, k = 3).
Everything after the matmul runs in place on its fresh output; while tracing or exporting, and for
activations with no in-place form, the same arithmetic runs out of place.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["BLOCK_BYTES", "SMALL_BATCH", "STACK_MAX_BATCH", "DendriteMix", "exporting", "frozen", "in_blocks"]

STACK_MAX_BATCH = 8
BLOCK_BYTES = 1 << 20
SMALL_BATCH = 2


def in_blocks(layer: Callable[[torch.Tensor], torch.Tensor], mix: Callable[..., torch.Tensor], x: torch.Tensor,
              axis: int, channels: int) -> torch.Tensor:
    """`mix(layer(x), axis)` over blocks of rows whose (1+k)-wide output holds about BLOCK_BYTES, each block
    mixed straight into its rows of one output (`axis`: the neuron axis, negative; `channels`: per copy).

    The first STACK_MAX_BATCH rows measure the bytes per row; the blocks after them are all one size, so the
    allocator hands the same buffer back each time instead of faulting in fresh pages.
    """
    n = x.shape[0]
    probe = min(n, STACK_MAX_BATCH)
    y = layer(x[:probe])
    if probe == n:
        return mix(y, axis)
    rows = max(probe, BLOCK_BYTES * probe // max(1, y.numel() * y.element_size()))
    shape = list(y.shape)
    shape[0], shape[axis] = n, channels
    out = y.new_empty(shape)
    mix(y, axis, out=out[:probe])
    del y
    for start in range(probe, n, rows):
        part = x[start:start + rows]
        mix(layer(part), axis, out=out[start:start + part.shape[0]])
    return out


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

    def stacked(self, y: torch.Tensor, axis: int, out: torch.Tensor | None = None) -> torch.Tensor:
        """The output from `y`, a fresh tensor holding the 1+k outputs as blocks along `axis` (negative),
        written into `out` when given."""
        k, channels = self.num_dendrites, self.channels
        if self.activation_ is None or y.requires_grad or exporting():
            result = self._out_of_place([y.narrow(axis, i * channels, channels) for i in range(k + 1)])
            return result if out is None else out.copy_(result)
        u = y.unflatten(axis, (k + 1, channels))
        block = axis - 1
        if self.link_pairs:
            self._activate(u.unbind(block))
        else:
            self.activation_(u.narrow(block, 1, k))
        if math.prod(u.shape[:block]) <= SMALL_BATCH:
            return torch.linalg.vecdot(u, self.top, dim=block, out=out)
        return self._chain(u.unbind(block), out)

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

    def _chain(self, parts: Sequence[torch.Tensor], out: torch.Tensor | None = None) -> torch.Tensor:
        top = self.top
        out = torch.addcmul(parts[0], top[1], parts[1], out=out)
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
