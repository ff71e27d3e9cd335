"""One PNG read at a glance: scores over epochs with switch markers, and score vs parameters per dendrite count.

Uses a bare Agg canvas (no pyplot state), so it is headless and safe to call from any thread or server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pai_core.results.errors import ResultsError

if TYPE_CHECKING:
    from pai_core.results.facts import RunFacts
    from pai_core.results.report import RunReport

MAX_PLOTTED_POINTS = 5000  # longer curves are thinned for drawing (the figures are computed on all points)


def _thin(series):
    step = max(1, len(series) // MAX_PLOTTED_POINTS)
    return series.iloc[::step] if step > 1 else series


def _color(name: str) -> str | None:
    lowered = name.lower()
    return "tab:blue" if "train" in lowered else "tab:red" if "test" in lowered else None


def _legend(axes) -> None:
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small", loc="best")


def _zoom(axes, series_list) -> None:
    """Clip the first epochs' steep climb (or fall) so the region where dendrites act is readable."""
    import numpy as np

    late, full = [], []
    for series in series_list:
        values = series.dropna().to_numpy()
        if len(values) < 10:
            continue
        full.append(values)
        late.append(values[len(values) // 4 :])
    if not late:
        return
    late_all, full_all = np.concatenate(late), np.concatenate(full)
    late_range = float(late_all.max() - late_all.min())
    if late_range > 0 and float(full_all.max() - full_all.min()) > 2.5 * late_range:
        margin = 0.08 * late_range
        axes.set_ylim(float(late_all.min()) - margin, float(late_all.max()) + margin)


def _figure(width: float, height: float, columns: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=90)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False)[0]


def _save(figure, path: str | Path) -> Path:
    target = Path(path)
    if target.suffix.lower() != ".png":
        target = target.with_suffix(".png")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.tight_layout()
        figure.savefig(target, format="png")
    except OSError as error:
        raise ResultsError(
            f"Cannot write the plot to {str(target)!r} ({error.strerror}); pass another --plot path."
        ) from None
    return target


def plot_run(facts: RunFacts, report: RunReport, path: str | Path) -> Path:
    figure, (curves, arch) = _figure(13, 4.8, 2)
    s = report.summary
    if not facts.validation.empty:
        v = _thin(facts.validation)
        curves.plot(v.index, v.to_numpy(), color="green", label="validation", linewidth=1.6)
    for name, series in facts.extras.items():
        if series.empty:
            continue
        thinned = _thin(series)
        curves.plot(
            thinned.index, thinned.to_numpy(), label=name, linewidth=1, alpha=0.85, color=_color(name)
        )
    for index, epoch in enumerate(s.switch_epochs):
        curves.axvline(
            epoch,
            color="tab:orange",
            linestyle="--",
            alpha=0.8,
            label="dendrite added" if index == 0 else None,
        )
    if s.best_epoch is not None and s.best_score is not None:
        curves.scatter(
            [s.best_epoch], [s.best_score], color="black", zorder=4, s=25, label=f"best {s.best_score:.4g}"
        )
    _zoom(curves, [facts.validation, *facts.extras.values()])
    curves.set_title(f"{s.save_name}: scores over epochs ({s.direction})")
    curves.set_xlabel("epoch")
    curves.grid(alpha=0.3)
    _legend(curves)

    points = _plot_architectures(arch, report, color="green", label="best validation")
    if points:
        for name in sorted({k for a in points for k in a.extra_scores}):
            pairs = [
                (a.param_count, a.extra_scores[name]) for a in points if a.extra_scores.get(name) is not None
            ]
            if pairs:
                arch.plot(
                    [p for p, _ in pairs],
                    [v for _, v in pairs],
                    marker=".",
                    linestyle=":",
                    label=name,
                    color=_color(name),
                )
        _legend(arch)
    else:
        arch.text(0.5, 0.5, "no per-architecture scores", ha="center", va="center", transform=arch.transAxes)
    arch.set_title("best score per dendrite count")
    arch.set_xlabel("parameters")
    arch.grid(alpha=0.3)
    return _save(figure, path)


def plot_comparison(runs: list[tuple[str, RunFacts, RunReport]], path: str | Path) -> Path:
    figure, (curves, arch) = _figure(13, 4.8, 2)
    for label, facts, report in runs:
        if facts.validation.empty:
            continue
        v = _thin(facts.validation)
        line = curves.plot(v.index, v.to_numpy(), label=f"{label} validation", linewidth=1.4)[0]
        for epoch in report.summary.switch_epochs:
            curves.axvline(epoch, color=line.get_color(), linestyle="--", alpha=0.5)
        _plot_architectures(arch, report, color=line.get_color(), label=label)
    curves.set_title("validation over epochs (dashed: dendrite added)")
    curves.set_xlabel("epoch")
    curves.grid(alpha=0.3)
    _legend(curves)
    arch.set_title("best validation vs parameters")
    arch.set_xlabel("parameters")
    arch.grid(alpha=0.3)
    _legend(arch)
    return _save(figure, path)


def _plot_architectures(arch, report: RunReport, *, color: str, label: str) -> list:
    """Best validation against parameter count, one labelled point per dendrite count; returns the points."""
    points = [a for a in report.architectures if a.param_count is not None and a.best_validation is not None]
    if points:
        arch.plot([a.param_count for a in points], [a.best_validation for a in points], marker="o",
                  color=color, label=label)
        for a in points:
            arch.annotate(f"{a.dendrites}d", (a.param_count, a.best_validation), textcoords="offset points",
                          xytext=(4, 4), fontsize="small")
    return points
