"""The run folder's human-readable outputs: upstream-compatible CSVs, the PNG and our pai_run.json summary.

Everything is rendered from the tracker's RunState. CSVs are small strings rebuilt from memory and only
rewritten when their content changed (no pandas, no figure per epoch): that is what keeps the per-epoch overhead
tiny, where upstream redraws a 28x14-inch figure and rewrites every CSV through pandas on every call.

CSV layout follows upstream 3.2.9 exactly (names, headers, "stacked" blocks, one row pair per switch in
switch_epochs/param_counts because upstream readers expect the n->p and p->n rows of its two-phase switch).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pai_core.checkpoint import atomic_write_bytes
from pai_core.run_state import RunState

SUMMARY_NAME = "pai_run.json"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    text = str(value)
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    lines = [",".join(_cell(h) for h in header)]
    lines.extend(",".join(_cell(v) for v in row) for row in rows)
    return "\n".join(lines) + "\n"


class LineCache:
    """Rendered CSV lines per series, extended in place while the series only grows.

    Histories are append-only except when a switch rewinds them, so re-rendering every row every epoch
    (quadratic over a run) is avoided; a rewound series is simply rendered again once.
    """

    def __init__(self) -> None:
        self._cache: dict[Any, tuple[list, list[str]]] = {}

    def lines(self, key: Any, values: list, render) -> list[str]:
        cached = self._cache.get(key)
        if cached is not None:
            old_values, old_lines = cached
            known = len(old_values)
            if len(values) >= known and values[:known] == old_values:
                fresh = values[known:]
                old_lines.extend(render(known + i, v) for i, v in enumerate(fresh))
                old_values.extend(fresh)
                return old_lines
        lines = [render(i, v) for i, v in enumerate(values)]
        self._cache[key] = (list(values), lines)
        return lines


def stacked_csv(first: str, series: list[tuple[str, list]], cache: LineCache | None = None) -> str:
    """Upstream's long format: one block of rows per series, each with its own 0..n-1 `first` column."""
    width = len(series)
    out = [",".join(_cell(h) for h in [first] + [name for name, _ in series])]
    for col, (name, values) in enumerate(series):
        before, after = "," * (col + 1), "," * (width - col - 1)

        def render(index: int, value: Any, before: str = before, after: str = after) -> str:
            return f"{index}{before}{_cell(value)}{after}"

        if cache is None:
            out.extend(render(i, v) for i, v in enumerate(values))
        else:
            out.extend(cache.lines((first, name, col, width), values, render))
    return "\n".join(out) + "\n"


def scores_csv(state: RunState, cache: LineCache | None = None) -> str:
    series = [("Validation Scores", state.accuracies), ("Validation Running Scores", state.running_accuracies)]
    series += list(state.extra_scores.items())
    series += list(state.extra_scores_without_graphing.items())
    return stacked_csv("Epochs", series, cache)


def times_csv(state: RunState, cache: LineCache | None = None) -> str:
    if state.manual_train_switch:
        return stacked_csv("Epochs", [("Normal Epoch Train Times", state.n_train_times),
                                      ("PAI Epoch Train Times", []),
                                      ("Normal Epoch Val Times", state.n_val_times),
                                      ("PAI Epoch Val Times", [])], cache)
    return stacked_csv("Epochs", [("Normal Epoch Times", state.n_epoch_times), ("PAI Epoch Times", [])], cache)


def learning_rate_csv(state: RunState, cache: LineCache | None = None) -> str:
    lines = ["Epochs,learning_rate"]
    render = lambda index, value: f"{index},{_cell(value)}"
    values = state.training_learning_rates
    lines += cache.lines("learning_rate", values, render) if cache else [render(i, v) for i, v in enumerate(values)]
    return "\n".join(lines) + "\n"


def doubled(values: list) -> list:
    """Upstream records every switch twice (n->p then p->n at the same epoch)."""
    return [v for v in values for _ in (0, 1)]


def switch_epochs_csv(state: RunState) -> str:
    return _csv(["Switch Number", "Switch Epoch"], enumerate(doubled(state.switch_epochs)))


def param_counts_csv(state: RunState) -> str:
    counts = state.param_counts
    return _csv(["Switch Number", "Param Count"], enumerate(counts[:1] + doubled(counts[1:])))


def best_pb_scores_csv(module_names: list[str]) -> str:
    header = ["Epochs"]
    for name in module_names:
        header += [f"Best ever for all nodes Layer {name}", f"Best current for all nodes Layer {name}"]
    return _csv(header, [])


def best_arch_rows(state: RunState) -> list[dict[str, Any]]:
    """One row per architecture: best raw validation score of each neuron phase and the extras at that epoch."""
    scores = state.accuracies
    pick = max if state.maximizing_score else min
    extras = {**state.extra_scores, **state.extra_scores_without_graphing}
    counts = state.param_counts
    bounds, start = [], 0
    for phase, switch_epoch in enumerate(state.switch_epochs):
        bounds.append((start, switch_epoch + 1, counts[min(phase, len(counts) - 1)] if counts else None))
        start = switch_epoch + 1
    if len(scores) > start:
        bounds.append((start, len(scores), counts[-1] if counts else None))
    rows = []
    for lo, hi, count in bounds:
        window = scores[lo:hi]
        if not window:
            continue
        best = pick(window)
        epoch = lo + window.index(best)
        row = {"Param Counts": count, "Max Valid Scores": best}
        for name, values in extras.items():
            row[name] = values[epoch] if epoch < len(values) else None
        rows.append(row)
    return rows


def best_arch_csv(state: RunState) -> str:
    names = list(state.extra_scores) + list(state.extra_scores_without_graphing)
    header = ["Param Counts", "Max Valid Scores"] + names
    return _csv(header, ([row.get(h) for h in header] for row in best_arch_rows(state)))


class RunFiles:
    """Writes one run's CSV/PNG "graph sets" into its folder, skipping files whose content is unchanged."""

    def __init__(self, folder: Path, save_name: str, *, extra_graphs: bool = True, writer: Any = None):
        self.folder = Path(folder)
        self.save_name = save_name
        self.extra_graphs = extra_graphs
        self.writer = writer  # a checkpoint.BackgroundWriter, or None to write synchronously
        self._written: dict[Path, str] = {}
        self._lines = LineCache()

    def _write(self, path: Path, data: bytes) -> None:
        if self.writer is None:
            atomic_write_bytes(path, data)
        else:
            self.writer.submit(path, data)

    def path(self, suffix: str) -> Path:
        return self.folder / f"{self.save_name}{suffix}"

    def _put(self, path: Path, text: str) -> None:
        if self._written.get(path) == text:
            return
        self._write(path, text.encode("utf-8"))
        self._written[path] = text

    def write_csvs(self, state: RunState, module_names: list[str], extra: str = "") -> None:
        base = f"{extra}"
        cache = self._lines if not extra else None
        self._put(self.path(f"{base}Scores.csv"), scores_csv(state, cache))
        self._put(self.path(f"{base}_best_arch_scores.csv"), best_arch_csv(state))
        self._put(self.path(f"{base}switch_epochs.csv"), switch_epochs_csv(state))
        self._put(self.path(f"{base}param_counts.csv"), param_counts_csv(state))
        if module_names:
            self._put(self.path(f"{base}Best PBScores.csv"), best_pb_scores_csv(module_names))
        if self.extra_graphs:
            self._put(self.path(f"{base}learning_rate.csv"), learning_rate_csv(state, cache))
            self._put(self.path(f"{base}Times.csv"), times_csv(state, cache))

    def write_summary(self, summary: dict) -> None:
        self._put(self.folder / SUMMARY_NAME, json.dumps(summary, indent=1, allow_nan=False) + "\n")

    def write_png(self, state: RunState, extra: str = "", *, zooming: bool = True) -> Path:
        path = self.path(f"{extra}.png")
        self._write(path, render_png(state, f"{self.folder.name}/{self.save_name}{extra}", zooming,
                                     self.extra_graphs))
        return path


def timestamp() -> str:
    """Upstream's snapshot timestamp: day.month.year.hour.minute.second."""
    return _dt.datetime.now().strftime("%d.%m.%Y.%H.%M.%S")


def render_png(state: RunState, title: str, zooming: bool = True, extra_graphs: bool = True) -> bytes:
    """A 2x2 figure like upstream's (scores, PB scores, learning rate, epoch times) as PNG bytes.

    Uses an Agg canvas directly (no pyplot global state), so it works headless and in any thread.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 8), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    ax = axes[0][0]
    scores = state.accuracies
    ax.plot(range(len(scores)), scores, color="green", label="Validation Scores")
    ax.plot(range(len(scores)), state.running_accuracies, color="green", alpha=0.35,
            label="Validation Running Scores")
    for name, values in state.extra_scores.items():
        ax.plot(range(len(values)), values, label=name)
    for old in state.overwritten_vals:
        ax.plot(range(len(old)), old, color="gray", alpha=0.25)
    for index, epoch in enumerate(state.switch_epochs):
        ax.axvline(epoch, color="teal" if index % 2 == 0 else "orange", linestyle="--", alpha=0.8)
    best_epoch = state.best_epoch
    if best_epoch is not None and best_epoch < len(scores):
        ax.scatter([best_epoch], [scores[best_epoch]], color="red", zorder=3,
                   label=f"Global best ({scores[best_epoch]:.4g})")
    last = state.epoch_last_improved
    if last is not None and last < len(scores):
        ax.scatter([last], [scores[last]], color="black", marker="x", zorder=3, label="Epoch Last Improved")
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    if zooming and finite:
        first = state.switch_epochs[0] + 1 if state.switch_epochs else len(finite)
        pre = finite[:first] or finite
        mean = sum(pre) / len(pre)
        if state.maximizing_score:
            ax.set_ylim(bottom=min(mean, min(finite)) if mean > max(finite) else mean)
        else:
            ax.set_ylim(top=max(mean, max(finite)) if mean < min(finite) else mean)
    ax.set_title(f"{title}Scores")
    ax.set_xlabel("Epochs")
    ax.legend(loc="best", fontsize="small")
    axes[0][1].set_title("Best PBScores (Perforated Backpropagation only; empty in open source)")
    if extra_graphs:
        lrs = [(i, v) for i, v in enumerate(state.training_learning_rates) if v is not None]
        axes[1][0].plot([i for i, _ in lrs], [v for _, v in lrs])
        axes[1][0].set_title("learning_rate")
        times = state.n_train_times if state.manual_train_switch else state.n_epoch_times
        axes[1][1].plot(range(len(times)), times)
        axes[1][1].set_title("Epoch Times (s)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
