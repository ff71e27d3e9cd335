"""Inference latency: the plain model vs the eager perforated model vs the fused inference model, k = 0..3.

A dendrite is a copy of its layer, so inference with k dendrites does (1 + k) x the layer's arithmetic whatever
we do; what fusion removes is the per-layer overhead of calling k + 1 modules (one stacked matmul/convolution
instead). So the fair reference for the fused model is the plain model times (1 + k) at large batches, and
the eager perforated model at small ones, where calls dominate. Measured side by side (the models take turns in
short bursts), no_grad, 1 CPU thread, median per call.

On the CPU build measured here, oneDNN runs a 3-input-channel convolution with 64 outputs more than 10x slower
than with 48 (a kernel-selection quirk, independent of pai): the CNN's first layer stacked for k = 3 hits it, so
that row shows fusion losing; `fuse=False` / `pai export --no-fuse` avoids it where it matters.

    python benchmarks/bench_inference.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import Figure


class CNN(nn.Module):
    """A small image model on 16x16 inputs: two conv layers (the second strided) and a Linear head.

    No pooling layers: on this CPU build max-pooling costs more than the convolutions and would hide them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.fc = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(x.flatten(1))


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


WORKLOADS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], list[int]]] = {
    # name: (plain model, input shape without batch, neuron-axis template of its layers)
    "MLP 256x3": (mlp, (256,), [-1, 0]),
    "CNN 16x16": (CNN, (3, 16, 16), [-1, 0, -1, -1]),
}


def perforated(factory: Callable[[], nn.Module], shape: tuple[int, ...], dims: list[int], k: int) -> nn.Module:
    """The plain model perforated with k dendrites per layer and non-zero dendrite weights."""
    from pai_core.config import PAIConfig
    from pai_core.modules import neuron_modules
    from pai_core.perforate import convert_network

    torch.manual_seed(0)
    config = PAIConfig()
    config.module_names_to_perforate = ["Linear", "Conv2d"]
    config.module_settings = {"Linear": {"output_dimensions": [-1, 0]}, "Conv2d": {"output_dimensions": dims}}
    model = convert_network(factory(), config)
    model(torch.randn(2, *shape))
    for module in neuron_modules(model):
        for _ in range(k):
            module.add_dendrite()
        if k:
            with torch.no_grad():
                module.dendrites_to_top.normal_(0, 0.1)
    return model.eval()


def latencies(models: list[nn.Module], x: torch.Tensor, calls: int, burst: int = 4) -> list[float]:
    """Median seconds per forward call of each model. The models take turns in short bursts, so load from
    other processes (the machine is shared) hits them all alike; the first call of each burst only warms the
    caches and is not timed."""
    samples: list[list[float]] = [[] for _ in models]
    with torch.no_grad():
        for model in models:
            for _ in range(10):
                model(x)
        for _ in range(max(1, calls // burst)):
            for model, bucket in zip(models, samples):
                model(x)
                for _ in range(burst):
                    start = time.perf_counter()
                    model(x)
                    bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in samples]


def measure(quick: bool = False) -> list[dict]:
    from pai_core.deploy import to_inference

    torch.set_num_threads(1)
    rows = []
    for name, (factory, shape, dims) in WORKLOADS.items():
        for batch in (1, 64):
            x = torch.randn(batch, *shape)
            calls = (100 if batch == 1 else 20) if quick else (1000 if batch == 1 else 150)
            for k in range(4):
                torch.manual_seed(0)
                plain = factory().eval()
                eager = perforated(factory, shape, dims, k)
                fused = to_inference(eager)
                unfused = to_inference(eager, fuse=False)
                with torch.no_grad():
                    torch.testing.assert_close(fused(x), eager(x), rtol=1e-4, atol=1e-4)
                t_plain, t_eager, t_fused, t_unfused = latencies([plain, eager, fused, unfused], x, calls)
                rows.append({"workload": name, "batch": batch, "k": k, "plain": t_plain, "eager": t_eager,
                             "fused": t_fused, "unfused": t_unfused})
    return rows


def figures(quick: bool = False) -> list[Figure]:
    """One row per workload, batch and k >= 1: fused latency / plain model, with the eager perforated beside it."""
    out = []
    for row in measure(quick):
        if not row["k"]:
            continue
        case = f"{row['workload']} batch {row['batch']} k={row['k']} (fused / eager perforated: " \
               f"{row['fused'] / row['eager']:.2f}x)"
        out.append(Figure("inference latency", case, f"fused {row['fused'] * 1e6:.0f} us",
                          f"plain torch {row['plain'] * 1e6:.0f} us (arithmetic alone: {1 + row['k']}x)",
                          row["fused"] / row["plain"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    args = parser.parse_args()
    print("forward latency, no_grad, 1 thread, median per call, models taking turns in bursts (shared machine)")
    print(f"{'workload':<10} {'batch':>5} {'k':>2} {'plain us':>9} {'eager us':>9} {'unfused us':>10} "
          f"{'fused us':>9} {'fused/plain':>11} {'eager/plain':>11} {'fused/eager':>11}")
    for r in measure(args.quick):
        print(f"{r['workload']:<10} {r['batch']:>5} {r['k']:>2} {r['plain'] * 1e6:9.1f} {r['eager'] * 1e6:9.1f} "
              f"{r['unfused'] * 1e6:10.1f} {r['fused'] * 1e6:9.1f} {r['fused'] / r['plain']:10.2f}x "
              f"{r['eager'] / r['plain']:10.2f}x {r['fused'] / r['eager']:10.2f}x")


if __name__ == "__main__":
    main()
