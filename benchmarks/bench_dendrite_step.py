"""Train-step time and memory of a perforated MLP and CNN with k = 0..3 dendrites vs the plain model, side by side.

Each dendrite is a full copy of its layer, so a step with k dendrites does about (1 + k) x the plain step's
arithmetic (forward, backward and the optimizer's update of (1 + k) x the weights); the goal is < (1 + k) x.
Rows for the issue's MLP (3 Linear layers, width 256) and the CNN of bench_inference.py (two Conv2d, one
Linear), batch 1 / 64 / 128, 1 and 2 threads. The perforated models step with Adam as pai_core's setup_optimizer
builds it (pai_core.optim.build_optimizer: fused=True and its steady step), the plain model with torch's
fused Adam; `--optimizer foreach` gives all of them torch's multi-tensor Adam:

- fused: pai_core as it runs by default (pai_core.fused: one autograd node per perforated layer);
- unfused: the same model with `fuse_dendrites = False` (each copy its own module call and autograd graph);
- upstream perforatedai 3.2.9 when it is installed (the MLP; its reported figures otherwise).

Memory, one batch-128 step beside the plain model's: the bytes the autograd graph keeps for backward (saved
activations, each storage counted once, parameters excluded; the fused path keeps the k dendrite activations
and nothing else) and the peak heap growth over forward + backward (glibc's count after every tensor op:
activations, temporaries and the new gradients).

The models take turns in short bursts; each ratio is the median over rounds of the ratio to the plain
model's burst of the same round (benchmarks/common.py). 1 thread: process CPU time; 2 threads: wall time.

    python benchmarks/bench_dendrite_step.py [--quick] [--threads 1,2]
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.bench_inference import WORKLOADS, perforated, unfused, upstream_model
from benchmarks.common import Figure, load, paired_times

KS = (0, 1, 2, 3)
BATCHES = (1, 64, 128)
UPSTREAM_REPORTED = {1: 2.65, 2: 4.4, 3: 8.4}  # perforatedai 3.2.9, MLP, batch 128, 1 thread
ISSUE_GOAL = {1: 1.8, 2: 3.1, 3: 3.6}  # the issue's prototype ("moonshot") on the MLP


OPTIMIZER = {"step": "setup_optimizer"}  # or "foreach" (--optimizer)


def adam(params: list, pai: bool = True) -> torch.optim.Optimizer:
    """Adam as setup_optimizer builds it for pai_core (`pai`), torch's fused Adam for the plain model; torch's
    multi-tensor Adam for both with --optimizer foreach."""
    from pai_core.optim import build_optimizer

    if OPTIMIZER["step"] == "foreach":
        return torch.optim.Adam(params, lr=1e-3, foreach=True)
    if not pai:
        return torch.optim.Adam(params, lr=1e-3, fused=True)
    return build_optimizer(torch.optim.Adam, params, {"lr": 1e-3})


def stepper(model: nn.Module, x: torch.Tensor, classes: int = 10, pai: bool = True) -> Callable[[], None]:
    """One train step (zero_grad, forward, cross-entropy, backward, Adam) on fixed data."""
    model.train()
    optimizer = adam(list(model.parameters()), pai)
    y = torch.randint(0, classes, (x.shape[0],))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    step()
    step()  # the second step is the steady one
    return step


class _HeapPeak(TorchDispatchMode):
    """The highest heap use (glibc mallinfo2: in-use chunks + mmapped blocks) seen after any tensor op."""

    def __init__(self, heap: Callable[[], int]) -> None:
        super().__init__()
        self.heap = heap
        self.top = heap()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.top = max(self.top, self.heap())
        return out


def _heap() -> Callable[[], int] | None:
    """Bytes the C heap holds now, where glibc tells (Linux); None elsewhere."""
    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                          "fsmblks", "uordblks", "fordblks", "keepcost")]
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (AttributeError, OSError):
        return None
    mallinfo2.restype = MallInfo2

    def heap() -> int:
        info = mallinfo2()
        return info.uordblks + info.hblkhd
    return heap


def peak_bytes(model: nn.Module, x: torch.Tensor) -> int | None:
    """Peak heap growth over one train step's forward and backward, gradients starting at None: activations,
    temporaries and the new gradients (None without mallinfo2)."""
    heap = _heap()
    if heap is None:
        return None
    model.train()
    y = torch.randint(0, 10, (x.shape[0],))
    for measured in (False, True):  # the first pass warms the allocator
        model.zero_grad(set_to_none=True)
        start = heap()
        with _HeapPeak(heap) as seen:
            nn.functional.cross_entropy(model(x), y).backward()
    return seen.top - start


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
                    steps = [stepper(model, x, pai=variant != "plain") for variant, model in models.items()]
                    burst = max(1, 32 // (batch * (1 + k))) * (1 if quick else 2)
                    seconds, ratios = paired_times(steps, rounds=5 if quick else 15, burst=burst, clock=clock)
                    yield Row(n_threads, name, batch, k, load(), seconds[0], dict(zip(models, ratios)))


def memory_rows(workloads: tuple[str, ...] = tuple(WORKLOADS)) -> list[tuple[str, int, dict[str, tuple]]]:
    """(workload, k, {plain / fused / unfused: (bytes saved for backward, peak bytes of a step)}) at batch 128."""
    out = []
    for name in workloads:
        factory, shape, dims = WORKLOADS[name]
        x = torch.randn(128, *shape)
        for k in KS:
            fused = perforated(factory, shape, dims, k)
            models = {"plain": factory(), "fused": fused, "unfused": unfused(fused)}
            out.append((name, k, {v: (saved_bytes(m, x), peak_bytes(m, x)) for v, m in models.items()}))
    return out


def optimizer_rows(workload: str = "MLP 256x3") -> list[tuple[int, int, dict[str, float]]]:
    """(k, parameter tensors, seconds of one Adam step by implementation): the optimizer's share of a step."""
    from pai_core.optim import Adam

    factory, shape, dims = WORKLOADS[workload]
    kinds = {"setup_optimizer": lambda p: Adam(p, lr=1e-3, fused=True),
             "fused": lambda p: torch.optim.Adam(p, lr=1e-3, fused=True),
             "foreach": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=True)}
    out = []
    for k in KS:
        params = list((perforated(factory, shape, dims, k) if k else factory()).parameters())
        for p in params:
            p.grad = torch.randn_like(p)
        steps = [make(params).step for make in kinds.values()]
        seconds, _ = paired_times(steps, rounds=15, burst=10)
        out.append((k, len(params), dict(zip(kinds, seconds))))
    return out


def _adam_text() -> str:
    return "foreach" if OPTIMIZER["step"] == "foreach" else "setup_optimizer's (plain: torch fused)"


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
    for name, k, memory in memory_rows():
        saved = {v: m[0] for v, m in memory.items()}
        out.append(Figure("train memory", f"{name} batch 128 k={k}: bytes saved for backward (unfused "
                          f"{saved['unfused'] / saved['plain']:.2f}x)", f"{saved['fused'] / 2**20:.2f} MiB",
                          f"plain torch {saved['plain'] / 2**20:.2f} MiB", saved["fused"] / saved["plain"],
                          "<= unfused", saved["fused"] <= saved["unfused"]))
        peak = {v: m[1] for v, m in memory.items()}
        if peak["plain"]:
            out.append(Figure("train memory", f"{name} batch 128 k={k}: peak memory of forward + backward "
                              f"(unfused {peak['unfused'] / peak['plain']:.2f}x)", f"{peak['fused'] / 2**20:.2f} MiB",
                              f"plain torch {peak['plain'] / 2**20:.2f} MiB", peak["fused"] / peak["plain"],
                              "<= unfused", peak["fused"] <= peak["unfused"]))
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
        print(f"k={k} {tensors:>3} tensors  " + "  ".join(
            f"{kind} {seconds[kind] * 1e6:5.0f} us ({seconds[kind] / base[kind]:.2f}x)" for kind in seconds))
    print("\nmemory of one batch-128 step: bytes saved for backward (activations, parameters excluded) and the "
          "peak heap growth over forward + backward (activations, temporaries, new gradients), MiB")
    print(f"{'workload':<10} {'k':>2} {'saved plain':>12} {'fused':>7} {'unfused':>8} {'peak plain':>11} "
          f"{'fused':>7} {'unfused':>8}")
    for name, k, memory in memory_rows(workloads):
        (sp, pp), (sf, pf), (su, pu) = memory["plain"], memory["fused"], memory["unfused"]
        peaks = " ".join(f"{v / 2**20:{w}.2f}" if v is not None else f"{'-':>{w}}" for v, w in ((pp, 11), (pf, 7), (pu, 8)))
        print(f"{name:<10} {k:>2} {sp / 2**20:12.2f} {sf / 2**20:7.2f} {su / 2**20:8.2f} {peaks}")

if __name__ == "__main__":
    main()
