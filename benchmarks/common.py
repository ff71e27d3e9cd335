"""The one row format every benchmark reports, so `run_all.py` can print and record them in one table.

Each `bench_*.py` exposes `figures(quick: bool = False) -> list[Figure]` next to its own `main()`; `quick`
shrinks repeats so the whole set runs in a few minutes. Ratios are always ours / reference, measured side by
side in the same run.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    benchmark: str  # "train step", "tracker overhead", "accuracy", ...
    case: str  # the workload variant, e.g. "k=2" or "1,005-line script"
    ours: str  # our measurement with its unit, e.g. "1.23 ms"
    reference: str  # what it is compared with, e.g. "plain torch 0.61 ms"
    ratio: float | None  # ours / reference (None when a ratio means nothing, e.g. accuracy)
    target: str = ""  # e.g. "<= 1.10x"; "" when the issue sets none
    met: bool | None = None  # whether the target is met (None: no target)
    upstream: str = ""  # perforatedai's figure on the same workload, or its reported one marked "(reported)"
