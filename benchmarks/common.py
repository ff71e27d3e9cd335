"""The one row format every benchmark reports, so `run_all.py` can print and record them in one table.

Each `bench_*.py` exposes `figures(quick: bool = False) -> list[Figure]` next to its own `main()`; `quick`
shrinks repeats so the whole set runs in a few minutes. Ratios are always ours / reference, measured side by
side in the same run.
"""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
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


def load() -> str:
    """The 1/5/15-minute load average as text (the machine is shared: read every timing beside it)."""
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def paired_times(runs: Sequence[Callable[[], None]], rounds: int, burst: int,
                 clock: Callable[[], float] = time.process_time,
                 best: bool = False) -> tuple[list[float], list[float]]:
    """(median seconds per call, median ratio to runs[0]) of each run; `best`: (fastest burst's seconds per
    call, ratio of the fastest bursts), since load from other jobs only ever adds time.

    The runs take turns: every round times a burst of each, in an order that rotates, and each run's ratio is
    taken to the first run's burst of the same round, so load from other processes hits both sides alike.
    The default clock is process CPU time, which other jobs on the machine do not inflate; with more than one
    torch thread pass time.perf_counter, since CPU time also counts threads spinning while they wait for work.
    """
    samples: list[list[float]] = [[] for _ in runs]
    for r in range(rounds):
        order = list(range(len(runs)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            run = runs[i]
            run()  # warm: caches and allocator after the other runs
            start = clock()
            for _ in range(burst):
                run()
            samples[i].append((clock() - start) / burst)
    if best:
        fastest = [min(s) for s in samples]
        return fastest, [f / fastest[0] for f in fastest]
    medians = [statistics.median(s) for s in samples]
    ratios = [statistics.median(a / b for a, b in zip(s, samples[0])) for s in samples]
    return medians, ratios
