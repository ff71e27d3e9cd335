"""How long `pai analyze-results` takes on a 10,000-epoch run folder written in upstream's format.

Target: under 1 s per analysis (with and without the plot). The folder is generated in a temp dir: the main
graph set (Scores with validation/running/train/test blocks = 40,000 rows, learning_rate, Times, switch
epochs, param counts, best_arch) plus one `_beforeSwitch_<k>` snapshot set per switch, as upstream writes.

    python benchmarks/bench_results.py [--epochs 10000] [--switches 8] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from benchmarks.common import Figure


def _stacked(series: dict[str, np.ndarray]) -> pd.DataFrame:
    blocks = []
    for name, values in series.items():
        block = {"Epochs": np.arange(len(values))}
        for other in series:
            block[other] = values if other == name else np.full(len(values), np.nan)
        blocks.append(pd.DataFrame(block))
    return pd.concat(blocks, ignore_index=True)


def write_run(folder: Path, save: str, epochs: int, switches: int) -> Path:
    """A synthetic upstream-format folder: saturating accuracy that jumps a little after each switch."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    switch_epochs = [int(epochs * (k + 1) / (switches + 1)) for k in range(switches)]
    t = np.arange(epochs)
    phase = np.searchsorted(switch_epochs, t, side="left")
    validation = 60 + 30 * (1 - np.exp(-t / (epochs / 10))) + phase * 0.8 + rng.normal(0, 0.3, epochs)
    train = validation + 4 + rng.normal(0, 0.2, epochs)
    test = validation - 2 + rng.normal(0, 0.4, epochs)
    counts = [1000 + 900 * k for k in range(switches + 1)]

    def graph_set(infix: str, upto: int, n_switches: int) -> None:
        base = folder / f"{save}{infix}"
        _stacked(
            {
                "Validation Scores": validation[:upto],
                "Validation Running Scores": validation[:upto],
                "train": train[:upto],
                "test": test[:upto],
            }
        ).to_csv(f"{base}Scores.csv", index=False)
        doubled = [e for e in switch_epochs[:n_switches] for _ in (0, 1)]
        pd.DataFrame({"Switch Number": range(len(doubled)), "Switch Epoch": doubled}).to_csv(
            f"{base}switch_epochs.csv", index=False
        )
        pc = counts[:1] + [c for c in counts[1 : n_switches + 1] for _ in (0, 1)]
        pd.DataFrame({"Switch Number": range(len(pc)), "Param Count": pc}).to_csv(
            f"{base}param_counts.csv", index=False
        )
        rows, start = [], 0
        for k, end in enumerate([*switch_epochs[:n_switches], upto - 1]):
            best = start + int(np.argmax(validation[start : end + 1]))
            rows.append(
                {
                    "Param Counts": counts[k],
                    "Max Valid Scores": validation[best],
                    "train": train[best],
                    "test": test[best],
                }
            )
            start = end + 1
        pd.DataFrame(rows).to_csv(f"{base}_best_arch_scores.csv", index=False)
        pd.DataFrame({"Epochs": range(upto), "learning_rate": 0.01 * 0.5 ** (phase[:upto] % 3)}).to_csv(
            f"{base}learning_rate.csv", index=False
        )
        _stacked({"Normal Epoch Times": rng.uniform(1, 2, upto), "PAI Epoch Times": np.array([])}).to_csv(
            f"{base}Times.csv", index=False
        )
        Path(f"{base}Best PBScores.csv").write_text(
            "Epochs,Best ever for all nodes Layer .fc1,Best current for all nodes Layer .fc1\n"
        )

    graph_set("", epochs, switches)
    for k, epoch in enumerate(switch_epochs):
        graph_set(f"_beforeSwitch_{2 * k}", min(epochs, epoch + 15), k)
    (folder / f"{save}_config.json").write_text(
        '{"maximizing_score": true, "switch_mode": 1, "n_epochs_to_switch": 10, "max_dendrites": 100}'
    )
    return folder


def _time(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure(epochs: int = 10_000, switches: int = 8, repeat: int = 5, cli_repeat: int = 2) -> dict:
    """Seconds of analyze_run without and with the plot, and of a cold `pai analyze-results` process."""
    start = time.perf_counter()
    import matplotlib.figure  # noqa: F401  (import cost reported separately)

    from pai_core.results import analyze_run

    import_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_run(Path(tmp) / "bench", "bench", epochs, switches)
        size = sum(p.stat().st_size for p in folder.iterdir())
        report = analyze_run(folder)  # warm-up, and a sanity check of the figures
        assert report.summary.epochs == epochs and report.summary.dendrites_added == switches
        bare = _time(lambda: analyze_run(folder), repeat)
        plotted = _time(lambda: analyze_run(folder, plot=Path(tmp) / "plot.png"), repeat)
        cli = _time(
            lambda: subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mcp_server.cli",
                    "analyze-results",
                    str(folder),
                    "--plot",
                    str(Path(tmp) / "cli.png"),
                ],
                check=True,
                capture_output=True,
            ),
            cli_repeat,
        )
        files = len(list(folder.iterdir()))
    return {"epochs": epochs, "switches": switches, "files": files, "size": size, "import_s": import_s,
            "bare": bare, "plotted": plotted, "cli": cli}


def figures(quick: bool = False) -> list[Figure]:
    """Rows for benchmarks/run_all.py: analysis seconds against the 1 s target (upstream has no such tool)."""
    m = measure(repeat=3 if quick else 5, cli_repeat=1 if quick else 2)
    case = f"{m['epochs']:,}-epoch run folder, {m['switches']} switches"
    rows = []
    for label, times in (("analyze_run", m["bare"]), ("analyze_run + plot PNG", m["plotted"])):
        median = statistics.median(times)
        rows.append(Figure("results analysis", f"{label}, {case}", f"{median:.2f} s", "target 1 s", None,
                           "<= 1 s", median <= 1.0, "no equivalent"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10_000)
    parser.add_argument("--switches", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    m = measure(args.epochs, args.switches, args.repeat)
    bare, plotted, cli = m["bare"], m["plotted"], m["cli"]
    print(
        f"run folder: {args.epochs} epochs, {args.switches} switches, {m['files']} files, "
        f"{m['size'] / 1e6:.1f} MB of CSV in {1 + args.switches} graph sets"
    )
    print(f"one-time imports (pandas, pydantic, matplotlib): {m['import_s']:.3f} s")
    print(f"{'analysis':<26}{'median s':>10}{'min s':>10}{'target s':>10}{'ratio':>8}")
    for label, times in (("analyze (no plot)", bare), ("analyze + plot PNG", plotted)):
        median = statistics.median(times)
        print(f"{label:<26}{median:>10.3f}{min(times):>10.3f}{1.0:>10.1f}{median / 1.0:>8.2f}")
    print(
        f"{'cold CLI process + plot':<26}{statistics.median(cli):>10.3f}{min(cli):>10.3f}{'-':>10}{'-':>8}"
        "   (python start-up and imports included)"
    )
    print(
        f"plot overhead: {statistics.median(plotted) - statistics.median(bare):.3f} s "
        "(timings are noisy: 2 shared cores)"
    )


if __name__ == "__main__":
    main()
