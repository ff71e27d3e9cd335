"""One number from whatever a training script passes as a score, or an error that says what to pass."""
from __future__ import annotations

import math
from typing import Any

import torch

from pai_core.errors import InvalidScoreError, NonFiniteScoreError


def as_score(score: Any, what: str = "score") -> float:
    """float/int/0-dim tensor/numpy scalar -> float; anything else is a clear error."""
    if isinstance(score, bool):
        raise InvalidScoreError(f"The {what} is a bool ({score}); pass the number to track (e.g. accuracy).")
    if isinstance(score, dict):
        keys = ", ".join(repr(k) for k in list(score)[:6])
        raise InvalidScoreError(f"The {what} is a dict with keys [{keys}]; pass one number, e.g. "
                                f"scores[{next(iter(score), 'key')!r}].")
    if isinstance(score, (list, tuple)):
        raise InvalidScoreError(f"The {what} is a {type(score).__name__} of {len(score)} values; pass the single "
                                "number to track (e.g. the validation accuracy).")
    if isinstance(score, torch.Tensor):
        if score.numel() != 1:
            raise InvalidScoreError(f"The {what} is a tensor of shape {tuple(score.shape)}; pass a single value "
                                    "(reduce it with .mean() or index the metric you track).")
        value = float(score.detach().reshape(()).item())
    elif hasattr(score, "item") and callable(score.item) and getattr(score, "size", 1) == 1:
        value = float(score.item())  # numpy scalars / 1-element arrays
    elif isinstance(score, (int, float)):
        value = float(score)
    else:
        raise InvalidScoreError(f"The {what} has type {type(score).__name__}; pass a float, int, 0-dim tensor "
                                "or numpy scalar.")
    if not math.isfinite(value):
        raise NonFiniteScoreError(f"The {what} is {value}. The run has probably diverged (NaN/inf loss): lower "
                                  "the learning rate or check the metric; the tracker does not record it.")
    return value
