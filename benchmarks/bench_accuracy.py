"""Accuracy of a capacity-limited digits MLP with and without dendrites, and of a wider net of equal size.

Three networks per seed on the real 8x8 digits (1,200 train / 300 validation / 297 test, bundled with
scikit-learn), each trained with Adam (lr 0.01, batch 100, 1 thread):
  * dendrites: 64-H-10 perforated (Linear layers), the real tracker in history mode (a dendrite after 10 epochs
    without a new best, up to 2 tries per dendrite count) until it says training is complete; the model it keeps;
  * plain: the same 64-H-10 without dendrites, for the same number of epochs, best validation epoch kept;
  * wider: a plain 64-W-10 whose parameter count matches the dendritic model's, same epochs, same selection.
Validation and test accuracy are reported as mean ± std over the seeds, with parameters per point of test
accuracy, and paired seed by seed: "dendrites beat the plain net" counts only when the mean test gain is
positive AND most seeds gain (a single seed whose plain net dies can carry a mean). When the upstream
`perforatedai` package is importable its dendritic run is measured the same way on the same seeds.

    python benchmarks/bench_accuracy.py [--seeds 8] [--hidden 6] [--upstream-seeds N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import Figure
from pai_core.datasets import load_digits_splits

torch.set_num_threads(1)
DATA = load_digits_splits()
HIDDEN = 6  # the width upstream's own digits example runs use (W = 6)
EPOCH_CAP = 600  # a dendritic run that has not completed by then is reported as such
BATCH, LR = 100, 0.01


class MLP(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def mlp_params(hidden: int) -> int:
    return 64 * hidden + hidden + hidden * 10 + 10


def width_for(params: int) -> int:
    """Hidden width of the plain MLP whose parameter count is closest to `params`."""
    return max(1, round((params - 10) / 75))


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item() * 100


def train_epoch(model: nn.Module, optimizer, generator: torch.Generator) -> None:
    model.train()
    order = torch.randperm(len(DATA.x_train), generator=generator)
    for i in range(0, len(order), BATCH):
        batch = order[i:i + BATCH]
        optimizer.zero_grad()
        F.cross_entropy(model(DATA.x_train[batch]), DATA.y_train[batch]).backward()
        optimizer.step()


@dataclass(frozen=True)
class Outcome:
    validation: float
    test: float
    params: int
    epochs: int
    dendrites: int = 0
    completed: bool = True


def plain_run(hidden: int, seed: int, epochs: int) -> Outcome:
    """A plain MLP for `epochs` epochs; validation and test at its best validation epoch (early-stopping style)."""
    torch.manual_seed(seed)
    model = MLP(hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(seed)
    best = (-1.0, 0.0)
    for _ in range(epochs):
        train_epoch(model, optimizer, generator)
        validation = accuracy(model, DATA.x_val, DATA.y_val)
        if validation > best[0]:
            best = (validation, accuracy(model, DATA.x_test, DATA.y_test))
    return Outcome(best[0], best[1], mlp_params(hidden), epochs)


def dendritic_run(gpa, upa, hidden: int, seed: int, folder: str) -> Outcome:
    """The perforated MLP through the GPA/UPA calling convention until the tracker says training is complete."""
    torch.manual_seed(seed)
    pc = gpa.pc
    pc.set_configuration_confirmed(True)
    pc.set_testing_dendrite_capacity(False)
    pc.set_module_names_to_perforate(["Linear"])
    pc.set_output_dimensions([-1, 0])
    # The settings this workload depends on, stated explicitly: GPA.pc is process-global in both libraries, so
    # another benchmark in the same process (e.g. bench_tracker's steady state) must not change them.
    pc.set_switch_mode(1)  # DOING_HISTORY
    pc.set_n_epochs_to_switch(10)
    pc.set_find_best_lr(True)
    pc.set_max_dendrite_tries(2)
    pc.set_max_dendrites(100)
    for optional in ("set_unwrapped_modules_confirmed", "set_weight_decay_accepted"):
        if hasattr(pc, optional):  # upstream asks interactively otherwise
            getattr(pc, optional)(True)
    if hasattr(pc, "set_drawing_extra_graphs"):
        pc.set_drawing_extra_graphs(False)
    cwd = os.getcwd()
    os.chdir(folder)  # both libraries write their run folder relative to the working directory
    try:
        model = upa.perforate_model(MLP(hidden), save_name=f"acc_{seed}", maximizing_score=True,
                                   making_graphs=False)  # accuracy only: no PNG redrawn every epoch
        tracker = gpa.pai_tracker
        tracker.set_optimizer(torch.optim.Adam)
        optimizer = tracker.setup_optimizer(model, {"params": model.parameters(), "lr": LR})
        optimizer = optimizer[0] if isinstance(optimizer, tuple) else optimizer
        generator = torch.Generator().manual_seed(seed)
        complete, epochs = False, 0
        while not complete and epochs < EPOCH_CAP:
            epochs += 1
            train_epoch(model, optimizer, generator)
            tracker.add_extra_score(accuracy(model, DATA.x_train, DATA.y_train), "train")
            tracker.add_extra_score(accuracy(model, DATA.x_test, DATA.y_test), "test")
            model, restructured, complete = tracker.add_validation_score(accuracy(model, DATA.x_val, DATA.y_val),
                                                                         model)
            if restructured and not complete:
                optimizer = tracker.setup_optimizer(model, {"params": model.parameters(), "lr": LR})
                optimizer = optimizer[0] if isinstance(optimizer, tuple) else optimizer
        flush = getattr(tracker, "flush", None)
        if callable(flush):
            flush()
    finally:
        os.chdir(cwd)
    params = sum(p.numel() for p in model.parameters())
    dendrites = _dendrite_count(tracker)
    return Outcome(accuracy(model, DATA.x_val, DATA.y_val), accuracy(model, DATA.x_test, DATA.y_test), params,
                   epochs, dendrites, complete)


def _dendrite_count(tracker) -> int:
    """Dendrites in the kept model, from the tracker's upstream-style `member_vars`."""
    try:
        return int(tracker.member_vars.get("num_dendrites_added", 0))
    except (AttributeError, TypeError, ValueError):
        return -1


def _upstream():
    try:
        from perforatedai import globals_perforatedai as UGPA  # type: ignore
        from perforatedai import utils_perforatedai as UUPA  # type: ignore
    except ImportError:
        return None
    return UGPA, UUPA


@dataclass
class Measurement:
    hidden: int
    seeds: list[int]
    dendritic: list[Outcome]
    plain: list[Outcome]
    wider: list[Outcome]
    upstream: list[Outcome] | None
    upstream_note: str


def measure(seeds: int = 8, hidden: int = HIDDEN, upstream_seeds: int | None = None) -> Measurement:
    from pai_core import globals_perforatedai as GPA
    from pai_core import utils_perforatedai as UPA

    seed_list = list(range(seeds))
    dendritic, plain, wider = [], [], []
    with tempfile.TemporaryDirectory() as ours_dir:
        for seed in seed_list:
            d = dendritic_run(GPA, UPA, hidden, seed, ours_dir)
            dendritic.append(d)
            plain.append(plain_run(hidden, seed, d.epochs))
            wider.append(plain_run(width_for(d.params), seed, d.epochs))
    upstream, note = None, "perforatedai not installed"
    modules = _upstream() if upstream_seeds != 0 else None
    if upstream_seeds == 0:
        note = "perforatedai skipped (--upstream-seeds 0)"
    if modules is not None:
        upstream, note = [], ""
        with tempfile.TemporaryDirectory() as up_dir:
            for seed in seed_list[: upstream_seeds or seeds]:
                try:
                    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # upstream prints every epoch and warns on numpy 2
                        upstream.append(dendritic_run(*modules, hidden, seed, up_dir))
                except (Exception, SystemExit) as error:  # noqa: BLE001 - report what upstream did, never crash
                    note = f"upstream run failed: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
                    break
    return Measurement(hidden, seed_list, dendritic, plain, wider, upstream or None, note)


def mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2f}" if values else "-"
    return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"


def per_point(outcomes: list[Outcome]) -> float:
    """Parameters per point of test accuracy (lower is better)."""
    return statistics.fmean(o.params for o in outcomes) / statistics.fmean(o.test for o in outcomes)


def describe(outcomes: list[Outcome], dendritic: bool = False) -> str:
    text = (f"val {mean_std([o.validation for o in outcomes])}, test {mean_std([o.test for o in outcomes])}, "
            f"{statistics.fmean(o.params for o in outcomes):.0f} params, {per_point(outcomes):.1f} params/pt")
    if dendritic:
        incomplete = sum(not o.completed for o in outcomes)
        text += f"; dendrites kept per seed {'/'.join(str(o.dendrites) for o in outcomes)}"
        text += f", {incomplete} run(s) cut at {EPOCH_CAP} epochs" if incomplete else ""
    return text


def paired(outcomes: list[Outcome], base: list[Outcome]) -> str:
    """Test-accuracy difference against the plain net, seed by seed: mean ± std and the seeds it wins."""
    gains = [o.test - b.test for o, b in zip(outcomes, base)]
    wins = sum(g > 0 for g in gains)
    return f"{mean_std(gains)} test points, better in {wins}/{len(gains)} seeds"


def figures(quick: bool = False) -> list[Figure]:
    """Rows for benchmarks/run_all.py: dendrites vs the same net and vs a wider net of equal parameter count."""
    m = measure(seeds=3 if quick else 8, upstream_seeds=1 if quick else None)
    case = f"digits MLP 64-{m.hidden}-10, {len(m.seeds)} seeds"
    up = m.upstream_note
    if m.upstream:
        k = len(m.upstream)
        same = "" if k == len(m.seeds) else f"; pai_core on those seeds: test {mean_std([o.test for o in m.dendritic[:k]])}"
        up = (f"{describe(m.upstream, True)} ({k} seed(s){same}; its params include a second copy of each "
              "wrapped layer that perforatedai keeps)")
    up_paired = paired(m.upstream, m.plain) if m.upstream else ""
    gains = [d.test - p.test for d, p in zip(m.dendritic, m.plain)]
    # a win must hold on the mean AND on most seeds (one dead plain seed can carry a mean), with dendrites kept
    beat = statistics.fmean(gains) > 0 and 2 * sum(g > 0 for g in gains) > len(gains)
    grew = any(o.dendrites > 0 for o in m.dendritic)
    widths = sorted({width_for(o.params) for o in m.dendritic})
    ours = describe(m.dendritic, True)
    return [
        Figure("accuracy", f"{case}: with dendrites (history mode) vs the same net without", ours,
               f"without: {describe(m.plain)}", None, "beat plain on test: mean and most seeds",
               beat and grew, up),
        Figure("accuracy", f"{case}: with dendrites vs plain 64-{'/'.join(map(str, widths))}-10 of equal params",
               ours, f"wider: {describe(m.wider)}", None, "reported beside it", None, ""),
        Figure("accuracy", f"{case}: paired gain over the plain net, seed by seed", paired(m.dendritic, m.plain),
               f"wider: {paired(m.wider, m.plain)}", None, "", None, up_paired),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    parser.add_argument("--upstream-seeds", type=int, default=None,
                        help="seeds for perforatedai (default: all; 0 skips it)")
    args = parser.parse_args(argv)
    m = measure(args.seeds, args.hidden, args.upstream_seeds)
    print(f"digits MLP 64-{m.hidden}-10, Adam lr {LR}, batch {BATCH}, seeds {m.seeds}; mean ± std "
          "(accuracy %, best validation epoch / the model the tracker keeps)")
    print(f"{'network':<34}{'validation':>16}{'test':>16}{'params':>8}{'params/pt':>10}{'epochs':>8}")
    rows = [("with dendrites (pai_core)", m.dendritic), (f"plain 64-{m.hidden}-10", m.plain),
            ("plain, wider (equal params)", m.wider)]
    if m.upstream:
        rows.append(("with dendrites (perforatedai)", m.upstream))
    for name, outcomes in rows:
        print(f"{name:<34}{mean_std([o.validation for o in outcomes]):>16}{mean_std([o.test for o in outcomes]):>16}"
              f"{statistics.fmean(o.params for o in outcomes):>8.0f}{per_point(outcomes):>10.1f}"
              f"{statistics.fmean(o.epochs for o in outcomes):>8.0f}")
    for name, outcomes in rows[:1] + rows[3:]:
        print(f"{name}: dendrites {[o.dendrites for o in outcomes]}, completed {[o.completed for o in outcomes]}")
    print(f"wider widths: {[width_for(o.params) for o in m.dendritic]}")
    if m.upstream:
        print("perforatedai's parameter count includes the second copy of each wrapped layer it keeps "
              "(model.parameters(), as for pai_core)")
    if m.upstream_note:
        print(m.upstream_note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
