"""`compare_runs`: several run folders (e.g. a baseline and a dendritic run) in one table and one plot.

Follows the comparison step of the integration checklist: metric, parameters and epochs to best per run,
a plain statement of whether dendrites helped, and "within run-to-run variance" when they did not clearly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from pai_core.results.analyze import analyze_facts
from pai_core.results.errors import ResultsError
from pai_core.results.facts import RunFacts
from pai_core.results.files import DEFAULT_MAX_ROWS
from pai_core.results.report import ComparedRun, Comparison, RunReport, fmt_number


def _noise(validation) -> float | None:
    tail = validation.dropna().iloc[-10:]
    if len(tail) < 4:
        return None
    return float(np.median(np.abs(np.diff(tail.to_numpy()))))


def _unique_labels(paths: list[Path]) -> list[str]:
    labels = [p.name for p in paths]
    if len(set(labels)) < len(labels):
        labels = [f"{p.parent.name}/{p.name}" for p in paths]
    return labels


def compare_runs(
    paths: list[str | Path], *, plot: str | Path | None = None, max_rows: int = DEFAULT_MAX_ROWS
) -> Comparison:
    if len(paths) < 2:
        raise ResultsError(
            "Pass at least two run folders to compare (e.g. a baseline run and a dendritic run)."
        )
    analyzed = [analyze_facts(p, max_rows=max_rows) for p in paths]
    labels = _unique_labels([facts.run.folder for facts, _ in analyzed])
    entries = [(label, facts, report) for label, (facts, report) in zip(labels, analyzed)]
    warnings = []
    directions = {report.summary.direction for _, _, report in entries}
    if len(directions) > 1:
        warnings.append(
            "the runs do not share a direction (one maximizes, one minimizes): the scores are probably "
            "different metrics and the deltas are not meaningful"
        )
    first_facts, first = entries[0][1], entries[0][2].summary
    compared = []
    for label, facts, report in entries:
        compared.append(_compared_run(label, facts, report, first_facts.gain, first.best_score))
        warnings += _run_warnings(label, report)
    comparison = Comparison(
        runs=compared, verdict=_verdict(compared), warnings=warnings, reports=[r for _, _, r in entries]
    )
    if plot is not None:
        from pai_core.results.plot import plot_comparison

        comparison.plot_path = str(plot_comparison(entries, plot))
    return comparison


def _compared_run(label: str, facts: RunFacts, report: RunReport, gain: Callable[[float, float], float],
                  first_best: float | None) -> ComparedRun:
    """One row of the comparison; `gain` and `first_best`: the first run's direction and best score."""
    s = report.summary
    best_arch = next((a for a in report.architectures if a.dendrites == s.best_dendrites), None)
    delta = relative = None
    if s.best_score is not None and first_best is not None:
        delta = gain(s.best_score, first_best)
        relative = delta / abs(first_best) if first_best else None
    return ComparedRun(
        label=label,
        folder=s.folder,
        direction=s.direction,
        status=s.status,
        dendrites=s.dendrites_added,
        params_baseline=s.param_counts[0] if s.param_counts else None,
        params_best=best_arch.param_count if best_arch else None,
        baseline_score=s.baseline_score,
        best_score=s.best_score,
        epochs=s.epochs,
        epochs_to_best=s.best_epoch,
        delta_vs_first=delta,
        relative_delta_vs_first=relative,
        noise=None if s.capacity_test else _noise(facts.validation),
        wall_time_s=s.wall_time_s,
    )


def _run_warnings(label: str, report: RunReport) -> list[str]:
    """Why a run's scores should not be compared as they are: a capacity test, or no dendrites at all."""
    s = report.summary
    if s.capacity_test:
        return [f"{label} is a capacity test (one epoch per architecture): its scores say nothing about "
                "what dendrites buy"]
    if s.dendrites_added == 0 and report.finding("PAI503"):  # no dendrites
        return [f"{label}: no dendrites were added; treat it as an integration problem before comparing"]
    return []


def _verdict(runs: list[ComparedRun]) -> str:
    first = runs[0]
    if first.best_score is None:
        return f"{first.label} has no validation scores; nothing to compare against."
    parts = []
    for run in runs[1:]:
        if run.delta_vs_first is None:
            parts.append(f"{run.label}: no validation scores")
            continue
        noise = max((n for n in (first.noise, run.noise) if n), default=0.0)
        extra_params = ""
        if run.params_best and first.params_best:
            extra_params = f" with {run.params_best / first.params_best:.2f}x the parameters"
        rel = f" ({run.relative_delta_vs_first:+.1%})" if run.relative_delta_vs_first is not None else ""
        if abs(run.delta_vs_first) <= 2 * noise:
            parts.append(
                f"{run.label} vs {first.label}: {fmt_number(run.delta_vs_first)}{rel}{extra_params}, within "
                f"run-to-run variance (epoch-to-epoch noise ~{fmt_number(noise)}); no clear difference"
            )
        elif run.delta_vs_first > 0:
            parts.append(
                f"{run.label} is better than {first.label} by {fmt_number(run.delta_vs_first)}{rel}{extra_params}"
            )
        else:
            parts.append(
                f"{run.label} is worse than {first.label} by {fmt_number(-run.delta_vs_first)}{rel}{extra_params}"
            )
    return "; ".join(parts) + "."
