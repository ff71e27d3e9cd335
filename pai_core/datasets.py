"""The real 8x8 digits data set (bundled with scikit-learn, no download) split like upstream's example runs.

Used by tests, the demo and the benchmarks so every figure is measured on the same real data.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class DigitsSplits(NamedTuple):
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_splits() -> DigitsSplits:
    """Return (x_train, y_train, x_val, y_val, x_test, y_test): 1200 / 300 / 297 samples.

    Pixels are float32 scaled to [0, 1] (divided by 16), labels int64, in the data set's own order, exactly as
    upstream's generate_digits_runs.py splits them.
    """
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32) / 16.0
    y = torch.tensor(y, dtype=torch.int64)
    return DigitsSplits(x[:1200], y[:1200], x[1200:1500], y[1200:1500], x[1500:], y[1500:])
