"""Tracker bookkeeping overhead on the digits MLP (64-32-10, batch 100, 1 thread), measured side by side.

Prints, per epoch: a plain-torch epoch and the same epoch with pai_core (perforated model + extras +
add_validation_score writing CSVs, latest/best checkpoints and pai_run.json; median of block means), the
tracker's share alone (amortised: total over all epochs / epochs, so the periodic writes are charged), and the
ratios. Upstream perforatedai is measured the same way when it is importable.
Target: tracker overhead <= 10% of the plain epoch. "calls" is the time spent inside the tracker calls on the
training thread; "+flush" also charges the background writer's pending file writes (waited for after every
block of 10 epochs), i.e. the worst case when the disk cannot keep up in parallel. The perforated modules'
own forward/backward cost is in "epoch s" only, never in the tracker columns. Checkpoints are written every epoch in both
pai_core variants (the resume promise); "pai_core every epoch" also sets log_interval_s = 0, so the CSVs and
pai_run.json are rewritten every epoch too (upstream's behaviour).

    MPLBACKEND=Agg python benchmarks/bench_tracker.py [--epochs 60]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import Figure
from pai_core.datasets import load_digits_splits

torch.set_num_threads(1)
DATA = load_digits_splits()


class MLP(nn.Module):
    def __init__(self, hidden: int = 32):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def train_and_validate(model, optimizer):
    x, y = DATA.x_train, DATA.y_train
    model.train()
    for i in range(0, len(x), 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val = (model(DATA.x_val).argmax(1) == DATA.y_val).float().mean().item() * 100
        train = (model(x).argmax(1) == y).float().mean().item() * 100
    return val, train


class Plain:
    name = "plain torch"

    def __init__(self):
        torch.manual_seed(0)
        self.model = MLP()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.01)

    def epoch(self):
        start = time.perf_counter()
        train_and_validate(self.model, self.optimizer)
        return time.perf_counter() - start, 0.0

    def flush(self):
        pass


class WithTracker:
    """Perforated model driven through the GPA/UPA calling convention."""

    def __init__(self, gpa, upa, name: str, folder: str, log_interval_s: float | None = None):
        self.name, self.gpa = name, gpa
        torch.manual_seed(0)
        gpa.pc.set_configuration_confirmed(True)
        gpa.pc.set_testing_dendrite_capacity(False)
        gpa.pc.set_module_names_to_perforate(["Linear"])
        gpa.pc.set_output_dimensions([-1, 0])
        gpa.pc.set_n_epochs_to_switch(10_000)  # steady state: measure per-epoch bookkeeping, not switches
        gpa.pc.set_find_best_lr(False)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            self.model = upa.perforate_model(MLP(), save_name="bench", maximizing_score=True)
        finally:
            os.chdir(cwd)
        self.folder = folder
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.01)
        from pai_core.tracker import tracker_for

        # this run's own tracker (the GPA facade follows the most recently perforated model)
        self.tracker = tracker_for(self.model) or gpa.pai_tracker
        self.tracker.set_optimizer_instance(self.optimizer)
        if log_interval_s is not None:
            self.tracker.log_interval_s = log_interval_s

    def flush(self):
        """Wait for the files already handed to the writer (not the logs deferred by the log interval:
        forcing those every block would charge writes a real run does not do)."""
        writer = getattr(self.tracker, "writer", None)
        flush = getattr(writer, "flush", None) or getattr(self.tracker, "flush", None)
        if callable(flush):
            flush()

    def final_flush(self):
        flush = getattr(self.tracker, "flush", None)
        if callable(flush):
            flush()

    def epoch(self):
        cwd = os.getcwd()
        os.chdir(self.folder)  # upstream writes relative to the working directory
        try:
            start = time.perf_counter()
            val, train = train_and_validate(self.model, self.optimizer)
            mid = time.perf_counter()
            tracker = self.tracker
            tracker.add_extra_score(train, "train")
            self.model, _restructured, _done = tracker.add_validation_score(val, self.model)
            end = time.perf_counter()
        finally:
            os.chdir(cwd)
        return end - start, end - mid


class Measurement(NamedTuple):
    epochs: int
    block: int
    times: dict[str, tuple[float, float, float]]  # variant -> (epoch s, tracker calls s, calls + flush s)
    upstream_note: str
    files: list[str]

    @property
    def plain(self) -> float:
        return self.times["plain torch"][0]


def _alternate(runners: list, epochs: int, block: int) -> dict[str, tuple[list, list, list]]:
    """Train the runners in alternating blocks of epochs, so machine load affects each alike."""
    times = {r.name: ([], [], []) for r in runners}
    for _ in range(3):  # warm-up
        for runner in runners:
            runner.epoch()
    for _ in range(max(1, epochs // block)):
        for runner in runners:
            start, book = time.perf_counter(), 0.0
            for _ in range(block):
                book += runner.epoch()[1]
            flush_start = time.perf_counter()
            runner.flush()  # each block ends with a flush, charging it the background writes
            flushed = time.perf_counter() - flush_start
            total = time.perf_counter() - start
            times[runner.name][0].append(total / block)
            times[runner.name][1].append(book / block)
            times[runner.name][2].append((book + flushed) / block)
    for runner in runners:
        getattr(runner, "final_flush", runner.flush)()
    return times


def measure(epochs: int = 60) -> Measurement:
    """pai_core's variants and plain torch in alternating blocks of 10 epochs; upstream (when installed) in a
    second pass against its own plain-torch blocks, because its ~0.4 s epochs of Python would evict the
    caches of the millisecond epochs measured beside them and bias those."""
    block = 10
    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as up_dir, \
            tempfile.TemporaryDirectory() as every_dir:
        from pai_core import globals_perforatedai as GPA
        from pai_core import utils_perforatedai as UPA

        times = _alternate([Plain(), WithTracker(GPA, UPA, "pai_core", ours_dir),
                            WithTracker(GPA, UPA, "pai_core every epoch", every_dir, log_interval_s=0.0)],
                           epochs, block)
        files = sorted(p.name for p in Path(ours_dir, "bench").iterdir())
        try:
            from perforatedai import globals_perforatedai as UGPA  # type: ignore
            from perforatedai import utils_perforatedai as UUPA  # type: ignore
        except ImportError:
            upstream_note = "upstream perforatedai: not installed (skipped)"
        else:
            upstream_note = ""
            second = _alternate([Plain(), WithTracker(UGPA, UUPA, "upstream perforatedai", up_dir)],
                                min(epochs, 30), block)
            plain_ratio = statistics.median(times["plain torch"][0]) / statistics.median(second["plain torch"][0])
            times["upstream perforatedai"] = tuple([v * plain_ratio for v in series]
                                                   for series in second["upstream perforatedai"])
    summary = {name: (statistics.median(series[0]), statistics.fmean(series[1]), statistics.fmean(series[2]))
               for name, series in times.items()}
    return Measurement(epochs, block, summary, upstream_note, files)


def measure_watch(blocks: int = 15, block: int = 10) -> tuple[float, float, float]:
    """The stale-optimizer watch: (epoch s with its gradient hooks active, same epoch without, one switch's
    snapshot + verdict s), alternating blocks of epochs on one perforated MLP with one dendrite. The watch
    runs only from a switch to the next score; the other epochs pay one `is None` check."""
    from pai_core import optim as pai_optim
    from pai_core.config import PAIConfig
    from pai_core.perforate import perforate_model

    config = PAIConfig()
    config.configuration_confirmed, config.module_names_to_perforate = True, ["Linear"]
    config.output_dimensions, config.testing_dendrite_capacity = [-1, 0], False
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            model = perforate_model(MLP(), save_name="watch", maximizing_score=True, config=config,
                                    making_graphs=False)
        finally:
            os.chdir(cwd)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        train_and_validate(model, optimizer)
        before = list(nn.Module.parameters(model))
        for module in (model.fc1, model.fc2):
            module.add_dendrite()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        watched, plain, judge = [], [], []
        for _ in range(blocks):
            start = time.perf_counter()
            watch = pai_optim.NewParameterWatch(model, before)
            watch.verdict()
            watch.close()
            judge.append(time.perf_counter() - start)
            for hooked, out in ((True, watched), (False, plain)):
                watch = pai_optim.NewParameterWatch(model, before) if hooked else None
                start = time.perf_counter()
                for _ in range(block):
                    train_and_validate(model, optimizer)
                out.append((time.perf_counter() - start) / block)
                if watch is not None:
                    watch.close()
    return statistics.median(watched), statistics.median(plain), statistics.median(judge)


def figures(quick: bool = False) -> list[Figure]:
    """Rows for benchmarks/run_all.py: an epoch with the tracker / a plain-torch epoch."""
    m = measure(20 if quick else 60)
    plain = m.plain
    upstream = m.times.get("upstream perforatedai")
    rows = []
    total, calls, _ = m.times["pai_core"]
    theirs = (f"{upstream[0] / plain:.1f}x ({upstream[0] * 1e3:.0f} ms/epoch)" if upstream
              else "48-120x (reported)")
    rows.append(Figure("tracker overhead", "digits MLP 64-32-10: the tracker's calls per epoch (checkpoint every "
                       "epoch, logs every 1 s)", f"{calls * 1e3:.3f} ms/epoch", f"plain torch epoch {plain * 1e3:.2f} ms",
                       1 + calls / plain, "<= 1.10x", calls / plain <= 0.10, theirs))
    rows.append(Figure("tracker overhead", "same, whole epoch: perforated model + tracker", f"{total * 1e3:.2f} ms/epoch",
                       f"plain torch {plain * 1e3:.2f} ms/epoch", total / plain, "<= 1.10x", total / plain <= 1.10))
    every = m.times["pai_core every epoch"][0]
    rows.append(Figure("tracker overhead", "same, whole epoch, logs also rewritten every epoch",
                       f"{every * 1e3:.2f} ms/epoch", f"plain torch {plain * 1e3:.2f} ms/epoch", every / plain))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)
    m = measure(args.epochs)
    print(f"digits MLP 64-32-10, batch 100, 1 thread, {m.epochs} epochs in blocks of {m.block} "
          "(epoch: median of block means; tracker: mean over all epochs of its calls, + the writer flush at "
          "each block end)")
    print(f"{'variant':<24}{'epoch s':>10}{'x plain':>9}{'calls s':>10}{'calls/plain':>13}"
          f"{'+flush s':>10}{'+flush/plain':>14}")
    for name, (total, book, full) in m.times.items():
        if name == "plain torch":
            print(f"{name:<24}{total:>10.5f}{1:>9.2f}")
            continue
        print(f"{name:<24}{total:>10.5f}{total / m.plain:>9.2f}{book:>10.5f}"
              f"{book / m.plain:>13.1%}{full:>10.5f}{full / m.plain:>14.1%}")
    if m.upstream_note:
        print(m.upstream_note)
    print(f"pai_core run folder after the benchmark: {len(m.files)} files ({', '.join(m.files[:6])}, ...)")
    watched, unwatched, judge = measure_watch()
    print(f"stale-optimizer watch (only the epoch after a switch): {watched * 1e3:.3f} ms/epoch watched vs "
          f"{unwatched * 1e3:.3f} ms unwatched ({watched / unwatched:.3f}x), snapshot + verdict "
          f"{judge * 1e3:.3f} ms once per switch; other epochs: one `is None` check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
