"""Processors: adapt modules that return several values (tuples, recurrent state) to dendrite growth.

A perforated module must present ONE tensor to be combined with its dendrites. The neuron gets one processor
instance and each dendrite its own:
    post_n1(main_output) -> the tensor to combine (stash the rest on self)
    post_n2(combined)    -> the value in the module's original output format
    pre_d(*args, **kw)   -> (args, kwargs) for a dendrite copy
    post_d(dendrite_out) -> the dendrite's tensor to combine
    clear_processor()    -> forget stashed tensors
Register by class (modules_with_processing + modules_processing_classes) or by class name
(module_names_with_processing + module_by_name_processing_classes) before perforate_model.
"""
from __future__ import annotations

import abc
import copy
from typing import Any

import torch

from pai_core.errors import ProcessorError

__all__ = [
    "GRUProcessor",
    "LSTMCellProcessor",
    "LSTMProcessor",
    "LSTMProcessorLastHidden",
    "MultiOutputProcessor",
    "PAIProcessor",
]


class PAIProcessor(abc.ABC):
    """Base class; deep copies never carry stashed tensors (they may belong to a live autograd graph)."""

    @abc.abstractmethod
    def post_n1(self, output: Any) -> torch.Tensor: ...

    @abc.abstractmethod
    def post_n2(self, combined: torch.Tensor) -> Any: ...

    def pre_d(self, *args: Any, **kwargs: Any) -> tuple[tuple, dict]:
        return args, kwargs

    @abc.abstractmethod
    def post_d(self, output: Any) -> torch.Tensor: ...

    @abc.abstractmethod
    def clear_processor(self) -> None: ...

    def __deepcopy__(self, memo: dict) -> PAIProcessor:
        new = copy.copy(self)
        new.clear_processor()
        return new


def _as_sequence(output: Any, processor: PAIProcessor) -> tuple:
    if not isinstance(output, (tuple, list)) or not output:
        raise ProcessorError(f"{type(processor).__name__} expects the module to return a non-empty tuple, got "
                             f"{type(output).__name__}; register it only for modules that return tuples.")
    return tuple(output)


class MultiOutputProcessor(PAIProcessor):
    """For modules returning (output, *rest), e.g. (output, state, record): dendrites act on `output`."""

    def __init__(self) -> None:
        self.rest: tuple = ()

    def post_n1(self, output: Any) -> torch.Tensor:
        first, *rest = _as_sequence(output, self)
        self.rest = tuple(rest)
        return first

    def post_n2(self, combined: torch.Tensor) -> tuple:
        rest, self.rest = self.rest, ()
        return (combined, *rest)

    def post_d(self, output: Any) -> torch.Tensor:
        return _as_sequence(output, self)[0]

    def clear_processor(self) -> None:
        self.rest = ()


class LSTMProcessor(MultiOutputProcessor):
    """nn.LSTM returns (output, (h_n, c_n)): dendrites act on the sequence output; the state passes through.

    Typical output_dimensions: [-1, -1, 0] (the feature axis is last with and without batch_first).
    """


class GRUProcessor(MultiOutputProcessor):
    """nn.GRU returns (output, h_n): dendrites act on the sequence output; h_n passes through."""


class LSTMProcessorLastHidden(PAIProcessor):
    """Dendrites act on the last layer's final hidden state h_n[-1] (for nn.LSTM and nn.GRU).

    Returns (None, combined) like upstream: for models that only use the final hidden state. (Upstream picked
    c_n for nn.LSTM by mistake; this takes h_n.) Output dimensions of h_n[-1]: [-1, 0].
    """

    def post_n1(self, output: Any) -> torch.Tensor:
        return self._last_hidden(output)

    def post_n2(self, combined: torch.Tensor) -> tuple:
        return (None, combined)

    def post_d(self, output: Any) -> torch.Tensor:
        return self._last_hidden(output)

    def _last_hidden(self, output: Any) -> torch.Tensor:
        hidden = _as_sequence(output, self)[1]
        h_n = hidden[0] if isinstance(hidden, (tuple, list)) else hidden
        return h_n[-1]

    def clear_processor(self) -> None:
        pass


class LSTMCellProcessor(PAIProcessor):
    """nn.LSTMCell returns (h, c): dendrites act on h; each dendrite carries its own (h, c) between steps.

    At the first step of a sequence (no state, or an all-zero h) every copy sees the caller's inputs; later
    steps feed each dendrite the state it produced at the previous step.
    """

    def __init__(self) -> None:
        self.c: torch.Tensor | None = None
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None

    def post_n1(self, output: Any) -> torch.Tensor:
        h, c = _as_sequence(output, self)
        self.c = c
        return h

    def post_n2(self, combined: torch.Tensor) -> tuple:
        c, self.c = self.c, None
        return (combined, c)

    def pre_d(self, *args: Any, **kwargs: Any) -> tuple[tuple, dict]:
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        if hx is None or self.state is None or not bool(hx[0].any()):
            return args, kwargs
        rest = {key: value for key, value in kwargs.items() if key != "hx"}
        return (args[0], self.state), rest

    def post_d(self, output: Any) -> torch.Tensor:
        h, c = _as_sequence(output, self)
        self.state = (h, c)
        return h

    def clear_processor(self) -> None:
        self.c = None
        self.state = None
