"""Train-step time of a perforated MLP with k = 0..3 dendrites vs the plain torch model, side by side.

Each dendrite is a full copy of its layer, so a step with k dendrites costs at least (1 + k) x the plain step;
the target is <= 1.1 x (1 + k). Upstream perforatedai 3.2.9 measured 2.65x / 4.4x / 8.4x at k = 1 / 2 / 3 on
this setup (3-layer MLP, width 256, batch 128, Adam, 1 CPU thread); its own figures are added to the table
when the `perforatedai` package is importable.

    python benchmarks/bench_dendrite_step.py [--steps 200] [--repeats 5]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

WIDTH, BATCH, IN_FEATURES, CLASSES = 256, 128, 256, 10
UPSTREAM_REPORTED = {1: 2.65, 2: 4.4, 3: 8.4}


def make_mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(IN_FEATURES, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(),
                         nn.Linear(WIDTH, CLASSES))


def stepper(model: nn.Module):
    """A function running n train steps (forward, loss, backward, Adam step) on fixed data."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(BATCH, IN_FEATURES)
    y = torch.randint(0, CLASSES, (BATCH,))
    loss_fn = nn.CrossEntropyLoss()

    def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
        return (time.perf_counter() - start) / n

    run(20)
    return run


def step_times(models: list[nn.Module], steps: int, repeats: int) -> list[float]:
    """Best seconds per step of each model, measured interleaved so machine load hits all alike."""
    runs = [stepper(model) for model in models]
    samples: list[list[float]] = [[] for _ in models]
    for _ in range(repeats):
        for run, bucket in zip(runs, samples):
            bucket.append(run(steps))
    return [min(bucket) for bucket in samples]


def pai_core_model(k: int) -> nn.Module:
    from pai_core.config import PAIConfig
    from pai_core.modules import neuron_modules
    from pai_core.perforate import convert_network

    model = convert_network(make_mlp(), PAIConfig())
    model(torch.randn(2, IN_FEATURES))  # discover output channels
    for module in neuron_modules(model):
        for _ in range(k):
            module.add_dendrite()
    return model


def upstream_model(k: int) -> nn.Module | None:
    try:  # only when the original package happens to be installed
        from perforatedai import globals_perforatedai as GPA  # type: ignore
        from perforatedai import utils_perforatedai as UPA  # type: ignore
    except ImportError:
        return None
    GPA.pc.set_unwrapped_modules_confirmed(True)
    GPA.pc.set_configuration_confirmed(True)
    model = UPA.perforate_model(make_mlp(), save_name="bench_upstream", making_graphs=False)
    loss = model(torch.randn(2, IN_FEATURES)).sum()
    loss.backward()
    for _ in range(k):
        GPA.pai_tracker.set_dendrite_training()
        GPA.pai_tracker.set_neuron_training()
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"3-layer MLP width {WIDTH}, batch {BATCH}, Adam, 1 thread, best of {args.repeats} x {args.steps} "
          "steps, plain and pai_core interleaved")
    print(f"{'k':>2} {'plain ms':>9} {'pai_core ms':>12} {'ratio':>6} {'target':>7} {'upstream':>9}")
    for k in range(4):
        models = [make_mlp(), pai_core_model(k)]
        upstream = upstream_model(k)
        if upstream is not None:
            models.append(upstream)
        times = step_times(models, args.steps, args.repeats)
        plain, ours = times[0], times[1]
        if upstream is not None:
            theirs = f"{times[2] / plain:8.2f}x"
        else:
            theirs = f"{UPSTREAM_REPORTED.get(k, 1.0):6.2f}x*" if k else "      -"
        print(f"{k:>2} {plain * 1e3:9.3f} {ours * 1e3:12.3f} {ours / plain:5.2f}x {1.1 * (1 + k):6.2f}x {theirs:>9}")
    print("* upstream figure as reported (perforatedai not installed here). Shared machine: timings are noisy.")


if __name__ == "__main__":
    main()
