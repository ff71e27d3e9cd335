"""Inference latency with k = 1..3 dendrites per layer, each model as a ratio to the plain model, side by side.

A dendrite is a copy of its layer, so inference with k dendrites does (1 + k) x the layer's arithmetic. The
goals (issue 19): every fused path <= (1 + k) x the plain model, and fused <= unfused. Rows: an MLP (3 Linear,
width 256) and a small CNN (16x16 inputs), batch 1 / 64 / 128, k = 1..3, no_grad, 1 thread by default:

- eager fused: the perforated training model in eval mode (pai_core.fused: one call per layer, the copies'
  outputs combined in place; convolutions with k >= 2 stacked per call and run in blocks of rows); eager
  unfused: the same with `fuse_dendrites = False` (module by module);
- deploy fused: `to_inference(model)` (pai_core.inference_layers.FusedDendrites over pai_core.fused_inference:
  a Linear/Conv and its copies stacked into one wider layer, a convolution run in blocks of about 1 MiB of
  output, one-pass activation and mix); deploy unfused: `to_inference(model, fuse=False)`;
- exported: deploy fused traced to TorchScript as export_model writes it, against the plain model traced
  the same way (no Python between the ops; an exported file runs the whole batch at once, no blocks);
- upstream perforatedai's eval-mode model when that package is installed (MLP only).

The dendrite weights W are random; the links V between dendrites are zero, as they start, unless --links
(then random too: every link term runs). The models take turns in short bursts, round after round; each figure is
a model's fastest burst over the plain model's fastest (benchmarks/common.py), since load from other jobs
on a shared machine only ever adds time. "met" needs both fused paths <= 1 + k; fused <= unfused allows 3% noise.
"floor" is what 1 + k copies cost at the least where arithmetic dominates (batch 64/128): each layer once
more per dendrite, plus a sigmoid and one addcmul_ over its output, timed alone beside the plain model; a
sigmoid costs about ten times a ReLU on this CPU, so the floor sits above 1 + k.

    python benchmarks/bench_inference.py [--quick] [--threads 1,2] [--rounds N] [--links]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import Figure, load, paired_times


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


def perforated(factory: Callable[[], nn.Module], shape: tuple[int, ...], dims: list[int], k: int,
               links: bool = False) -> nn.Module:
    """The plain model perforated with k dendrites per layer and non-zero dendrite weights (and links)."""
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
                for block in module.dendrite_module.dendrites_to_dendrites if links else ():
                    block.normal_(0, 0.1)
    return model.eval()


def unfused(model: nn.Module) -> nn.Module:
    """A copy of a perforated model that calls each dendrite copy in turn (the fused path switched off)."""
    from pai_core.fused import set_fused

    model = copy.deepcopy(model)
    set_fused(model, False)
    return model


def upstream_model(factory: Callable[[], nn.Module], shape: tuple[int, ...], k: int) -> nn.Module | None:
    """`factory()` perforated by upstream perforatedai with k dendrites per layer, or None without the package."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from perforatedai import globals_perforatedai as GPA  # type: ignore
            from perforatedai import utils_perforatedai as UPA  # type: ignore
    except ImportError:
        return None
    with contextlib.ExitStack() as stack:  # it narrates every switch and writes a run folder: keep both out of sight
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        stack.enter_context(contextlib.chdir(stack.enter_context(tempfile.TemporaryDirectory())))
        warnings.simplefilter("ignore")
        GPA.pc.set_unwrapped_modules_confirmed(True)
        GPA.pc.set_configuration_confirmed(True)
        GPA.pc.set_output_dimensions([-1, 0])
        torch.manual_seed(0)
        model = UPA.perforate_model(factory(), save_name="bench_upstream", making_graphs=False)
        model(torch.randn(2, *shape)).sum().backward()
        for _ in range(k):
            GPA.pai_tracker.set_dendrite_training()
            GPA.pai_tracker.set_neuron_training()
    return model


VARIANTS = ("plain", "eager fused", "eager unfused", "deploy fused", "deploy unfused", "exported", "upstream")


def traced(model: nn.Module, x: torch.Tensor) -> torch.jit.ScriptModule:
    """The TorchScript module export_model writes (torch.jit.trace, no freezing), kept in memory."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(model, (x,), check_trace=False)


NOISE = 1.03  # ratios within 3% count as equal (noise on a shared machine)


def copies_floor(plain: nn.Module, x: torch.Tensor, rounds: int, burst: int, clock: Callable[[], float]) -> float:
    """What one dendrite per layer costs beside the plain forward, timed alone: each Linear/Conv again on its
    own input, the dendrite activation (sigmoid) over its output and the mix (one addcmul_). A dendrite is a
    full copy of its layer, so the floor of 1 + k dendrites where arithmetic dominates is 1 + k x this."""
    layers = [m for m in plain.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    seen: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [m.register_forward_hook(lambda m, i, o: seen.__setitem__(m, (i[0], o.clone()))) for m in layers]
    with torch.no_grad():
        plain(x)
    for hook in hooks:
        hook.remove()
    rows = {m: torch.rand(out.shape[1], *([1] * (out.dim() - 2))) for m, (_, out) in seen.items()}

    def one_dendrite() -> None:
        for m, (inp, out) in seen.items():
            out.addcmul_(rows[m], torch.sigmoid_(m(inp)))

    with torch.no_grad():
        _, ratios = paired_times([lambda: plain(x), one_dendrite], rounds=rounds, burst=burst, clock=clock, best=True)
    return ratios[1]


def measure(quick: bool = False, threads: tuple[int, ...] = (1,), rounds: int | None = None,
            links: bool = False, workloads: tuple[str, ...] = tuple(WORKLOADS)) -> Iterator[dict]:
    """One row per threads, workload, batch and k, as measured: median seconds per call and ratio to plain."""
    from pai_core.deploy import to_inference

    rounds = rounds or (7 if quick else 15)
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        clock = time.process_time if n_threads == 1 else time.perf_counter
        for name in workloads:
            factory, shape, dims = WORKLOADS[name]
            for batch in (1, 64, 128):
                x = torch.randn(batch, *shape)
                for k in (1, 2, 3):
                    torch.manual_seed(0)
                    eager = perforated(factory, shape, dims, k, links)
                    plain = factory().eval()
                    deployed = to_inference(eager)
                    models = {"plain": plain, "eager fused": eager, "eager unfused": unfused(eager),
                              "deploy fused": deployed, "deploy unfused": to_inference(eager, fuse=False),
                              "plain traced": traced(plain, x), "exported": traced(deployed, x)}
                    upstream = upstream_model(factory, shape, k) if name.startswith("MLP") and not links else None
                    if upstream is not None:
                        models["upstream"] = upstream.eval()
                    with torch.no_grad():
                        for model in [models[v] for v in ("eager unfused", "deploy fused", "deploy unfused", "exported")]:
                            torch.testing.assert_close(model(x), eager(x), rtol=1e-4, atol=1e-4)
                    work = batch * (1 + k)
                    burst = max(1, 64 // work) * (1 if quick else 2)
                    with torch.no_grad():
                        seconds, ratios = paired_times([lambda m=m: m(x) for m in models.values()],
                                                       rounds=rounds, burst=burst, clock=clock, best=True)
                    r = dict(zip(models, ratios))
                    r["exported"] /= r.pop("plain traced")  # the traced model against the traced plain model
                    floor = 1 + k * copies_floor(plain, x, rounds, burst, clock)
                    yield {"threads": n_threads, "workload": name, "batch": batch, "k": k, "load": load(),
                           "seconds": dict(zip(models, seconds)), "ratio": r, "floor": floor,
                           "met": max(r["eager fused"], r["deploy fused"]) <= 1 + k,
                           "fused <= unfused": r["eager fused"] <= r["eager unfused"] * NOISE
                           and r["deploy fused"] <= r["deploy unfused"] * NOISE}


def figures(quick: bool = False) -> list[Figure]:
    """One row per workload, batch and k (1 thread): the slower fused path / plain, the others beside it."""
    out = []
    for row in measure(quick):
        r, k = row["ratio"], row["k"]
        case = (f"{row['workload']} batch {row['batch']} k={k}, {row['threads']} thread(s): eager fused "
                f"{r['eager fused']:.2f}x / unfused {r['eager unfused']:.2f}x, deploy fused {r['deploy fused']:.2f}x "
                f"/ unfused {r['deploy unfused']:.2f}x; exported (TorchScript) {r['exported']:.2f}x of plain "
                f"traced; floor of the copies {row['floor']:.2f}x; fused <= unfused: "
                f"{'yes' if row['fused <= unfused'] else 'NO'}")
        upstream = f"{r['upstream']:.2f}x (eager)" if "upstream" in r else ""
        worst = max(r["eager fused"], r["deploy fused"])
        out.append(Figure("inference latency", case, f"fused {worst * row['seconds']['plain'] * 1e6:.0f} us",
                          f"plain torch {row['seconds']['plain'] * 1e6:.0f} us", worst, f"<= {1 + k}x",
                          row["met"], upstream))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument("--threads", default="1", help="torch thread counts to measure, comma-separated")
    parser.add_argument("--rounds", type=int, help="rounds of bursts per row (default 7 with --quick, else 15)")
    parser.add_argument("--links", action="store_true", help="random links between dendrites (default zero)")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), help="one workload only (default: all)")
    args = parser.parse_args()
    threads = tuple(int(t) for t in args.threads.split(","))
    print(f"forward latency, no_grad, best burst / plain's best burst over interleaved rounds; load {load()}")
    print(f"{'thr':>3} {'workload':<10} {'batch':>5} {'k':>2} {'plain us':>9}" +
          "".join(f"{v:>15}" for v in VARIANTS[1:]) + f"{'floor':>7}{'goal':>6} {'met':>4}  fused<=unfused")
    for row in measure(args.quick, threads, args.rounds, args.links,
                       (args.workload,) if args.workload else tuple(WORKLOADS)):
        r = row["ratio"]
        cells = "".join(f"{r[v]:>14.2f}x" if v in r else f"{'-':>15}" for v in VARIANTS[1:])
        print(f"{row['threads']:>3} {row['workload']:<10} {row['batch']:>5} {row['k']:>2} "
              f"{row['seconds']['plain'] * 1e6:9.1f}{cells} {row['floor']:>5.2f}x {'<=' + str(1 + row['k']) + 'x':>5} "
              f"{'yes' if row['met'] else 'NO':>4}  {'yes' if row['fused <= unfused'] else 'NO'}", flush=True)
    print(f"load at the end {load()}; met: eager and deploy fused <= 1 + k; fused <= unfused within 3%; floor: "
          "1 + k x (each layer again + sigmoid + one addcmul_ over its output), timed alone beside the plain model")


if __name__ == "__main__":
    main()
