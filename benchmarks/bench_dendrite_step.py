"""Train-step time and memory of a perforated MLP and CNN with k = 0..3 dendrites vs the plain model, side by side.

Each dendrite is a full copy of its layer, so a step with k dendrites does about (1 + k) x the plain step's
arithmetic (forward, backward and the optimizer's update of (1 + k) x the weights); the goal is < (1 + k) x.
Rows for the issue's MLP (3 Linear layers, width 256) and the CNN of bench_inference.py (two Conv2d, one
Linear), batch 1 / 64 / 128, 1 and 2 threads, Adam as pai_core's setup_optimizer builds it (fused=True,
pai_core.optim.with_fast_step; `--optimizer foreach` for the multi-tensor step it built before), the same for
the plain model:

- fused: pai_core as it runs by default (pai_core.fused: one autograd node per perforated layer);
- unfused: the same model with `fuse_dendrites = False` (each copy its own module call and autograd graph);
- upstream perforatedai 3.2.9 when it is installed (the MLP; its reported figures otherwise).

Memory: the bytes the autograd graph keeps for backward (saved activations, each storage counted once,
parameters excluded) in one batch-128 step, beside the plain model's; the fused path keeps the k dendrite
activations and nothing else.

The models take turns in short bursts; each ratio is the median over rounds of the ratio to the plain
model's burst of the same round (benchmarks/common.py). 1 thread: process CPU time; 2 threads: wall time.

    python benchmarks/bench_dendrite_step.py [--quick] [--threads 1,2]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from torch import nn

from benchmarks.bench_inference import WORKLOADS, perforated, unfused, upstream_model
from benchmarks.common import Figure, load, paired_times

KS = (0, 1, 2, 3)
BATCHES = (1, 64, 128)
UPSTREAM_REPORTED = {1: 2.65, 2: 4.4, 3: 8.4}  # perforatedai 3.2.9, MLP, batch 128, 1 thread
ISSUE_GOAL = {1: 1.8, 2: 3.1, 3: 3.6}  # the issue's prototype ("moonshot") on the MLP


OPTIMIZER = {"step": "setup_optimizer"}  # or "foreach" (--optimizer)


def adam(params: list) -> torch.optim.Optimizer:
    """Adam as setup_optimizer builds it, or with the multi-tensor step when --optimizer foreach."""
    from pai_core.optim import with_fast_step

    args = {"foreach": True} if OPTIMIZER["step"] == "foreach" else {}
    return torch.optim.Adam(params, lr=1e-3, **with_fast_step(torch.optim.Adam, args, params))


def stepper(model: nn.Module, x: torch.Tensor, classes: int = 10) -> Callable[[], None]:
    """One train step (zero_grad, forward, cross-entropy, backward, Adam) on fixed data."""
    model.train()
    optimizer = adam(list(model.parameters()))
    y = torch.randint(0, classes, (x.shape[0],))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    step()
    return step


def saved_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd saves for backward in one forward (each storage once, parameters excluded)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(x).float().logsumexp(-1).sum()
    loss.backward()
    return sum(seen.values())


@dataclass(frozen=True)
class Row:
    threads: int
    workload: str
    batch: int
    k: int
    load: str
    plain: float  # seconds per step
    ratios: dict[str, float]  # variant -> median ratio to plain


def measure(quick: bool = False, threads: tuple[int, ...] = (1, 2), workloads: tuple[str, ...] = tuple(WORKLOADS)
            ) -> Iterator[Row]:
    """The rows one by one, as they are measured."""
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        clock = time.process_time if n_threads == 1 else time.perf_counter
        for name in workloads:
            factory, shape, dims = WORKLOADS[name]
            for batch in BATCHES:
                x = torch.randn(batch, *shape)
                for k in KS:
                    torch.manual_seed(0)
                    fused = perforated(factory, shape, dims, k)
                    models = {"plain": factory(), "fused": fused, "unfused": unfused(fused)}
                    upstream = upstream_model(factory, shape, k) if name.startswith("MLP") else None
                    if upstream is not None:
                        models["upstream"] = upstream
                    steps = [stepper(model, x) for model in models.values()]
                    burst = max(1, 32 // (batch * (1 + k))) * (1 if quick else 2)
                    seconds, ratios = paired_times(steps, rounds=5 if quick else 15, burst=burst, clock=clock)
                    yield Row(n_threads, name, batch, k, load(), seconds[0], dict(zip(models, ratios)))


def memory_rows(workloads: tuple[str, ...] = tuple(WORKLOADS)) -> list[tuple[str, int, dict[str, int]]]:
    """(workload, k, saved bytes of plain / fused / unfused) at batch 128."""
    out = []
    for name in workloads:
        factory, shape, dims = WORKLOADS[name]
        x = torch.randn(128, *shape)
        for k in KS:
            fused = perforated(factory, shape, dims, k)
            models = {"plain": factory(), "fused": fused, "unfused": unfused(fused)}
            out.append((name, k, {v: saved_bytes(m, x) for v, m in models.items()}))
    return out


def optimizer_rows(workload: str = "MLP 256x3") -> list[tuple[int, int, dict[str, float]]]:
    """(k, parameter tensors, seconds of one Adam step by implementation): the optimizer's share of a step."""
    factory, shape, dims = WORKLOADS[workload]
    out = []
    for k in KS:
        params = list((perforated(factory, shape, dims, k) if k else factory()).parameters())
        for p in params:
            p.grad = torch.randn_like(p)
        steps = [torch.optim.Adam(params, lr=1e-3, **{kind: True}).step for kind in ("fused", "foreach")]
        seconds, _ = paired_times(steps, rounds=15, burst=10)
        out.append((k, len(params), dict(zip(("fused", "foreach"), seconds))))
    return out


def _adam_text() -> str:
    return "foreach" if OPTIMIZER["step"] == "foreach" else "fused"


def _upstream_text(row: Row) -> str:
    if "upstream" in row.ratios:
        return f"{row.ratios['upstream']:.2f}x"
    reported = row.workload.startswith("MLP") and row.batch == 128 and row.k in UPSTREAM_REPORTED
    return f"{UPSTREAM_REPORTED[row.k]:.2f}x (reported)" if reported else ""


def figures(quick: bool = False) -> list[Figure]:
    """A row per threads, workload, batch and k: fused step / plain step, unfused beside it; then memory."""
    out = []
    for row in measure(quick, threads=(1,) if quick else (1, 2)):
        r = row.ratios
        target = f"< {1 + row.k}x" if row.k else "<= 1.10x"
        met = r["fused"] < 1 + row.k if row.k else r["fused"] <= 1.10
        out.append(Figure("train step", f"{row.workload} batch {row.batch} k={row.k}, {row.threads} thread(s), "
                          f"Adam {_adam_text()} (unfused {r['unfused']:.2f}x; load {row.load})",
                          f"{row.plain * r['fused'] * 1e3:.2f} ms", f"plain torch {row.plain * 1e3:.2f} ms",
                          r["fused"], target, met, _upstream_text(row)))
    for name, k, saved in memory_rows():
        out.append(Figure("train memory", f"{name} batch 128 k={k}: bytes saved for backward (unfused "
                          f"{saved['unfused'] / saved['plain']:.2f}x)", f"{saved['fused'] / 2**20:.2f} MiB",
                          f"plain torch {saved['plain'] / 2**20:.2f} MiB", saved["fused"] / saved["plain"],
                          "<= unfused", saved["fused"] <= saved["unfused"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--threads", default="1,2", help="torch thread counts to measure, comma-separated")
    parser.add_argument("--optimizer", choices=("setup_optimizer", "foreach"), default="setup_optimizer",
                        help="Adam as setup_optimizer builds it (fused) or with foreach=True")
    parser.add_argument("--workload", choices=("all", *WORKLOADS), default="all", help="one workload only")
    args = parser.parse_args()
    OPTIMIZER["step"] = args.optimizer
    threads = tuple(int(t) for t in args.threads.split(","))
    workloads = tuple(WORKLOADS) if args.workload == "all" else (args.workload,)
    print(f"train step (Adam {_adam_text()}), median ratio to the plain model over rounds of bursts; load {load()}")
    print(f"{'thr':>3} {'workload':<10} {'batch':>5} {'k':>2} {'plain ms':>9} {'fused':>7} {'unfused':>8} "
          f"{'upstream':>9} {'goal':>6}")
    for row in measure(args.quick, threads, workloads):
        r = row.ratios
        goal = f"<{1 + row.k}" if row.k else "1.10"
        print(f"{row.threads:>3} {row.workload:<10} {row.batch:>5} {row.k:>2} {row.plain * 1e3:9.3f} "
              f"{r['fused']:6.2f}x {r['unfused']:7.2f}x {_upstream_text(row).replace(' (reported)', '*') or '-':>9} "
              f"{goal:>6}", flush=True)
    print(f"load at the end {load()}; * upstream's reported figure. Issue's prototype on the MLP: "
          + " / ".join(f"k={k} {v}x" for k, v in ISSUE_GOAL.items()))
    print(f"\nAdam step alone on {workloads[0]}'s parameters (ratio to k=0 of the same implementation)")
    rows = optimizer_rows(workloads[0])
    base = rows[0][2]
    for k, tensors, seconds in rows:
        print(f"k={k} {tensors:>3} tensors  fused {seconds['fused'] * 1e6:7.0f} us ({seconds['fused'] / base['fused']:.2f}x)"
              f"  foreach {seconds['foreach'] * 1e6:7.0f} us ({seconds['foreach'] / base['foreach']:.2f}x)")
    print("\nbytes saved for backward, batch 128 (activations; parameters excluded)")
    print(f"{'workload':<10} {'k':>2} {'plain MiB':>10} {'fused MiB':>10} {'unfused MiB':>12} {'fused/plain':>12}")
    for name, k, saved in memory_rows(workloads):
        print(f"{name:<10} {k:>2} {saved['plain'] / 2**20:10.2f} {saved['fused'] / 2**20:10.2f} "
              f"{saved['unfused'] / 2**20:12.2f} {saved['fused'] / saved['plain']:11.2f}x")


if __name__ == "__main__":
    main()
