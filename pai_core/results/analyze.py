"""`analyze_run(folder)`: read a finished (or stopped) run folder and build its RunReport."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pandas as pd

from pai_core.results.errors import ResultsError
from pai_core.results.facts import RunFacts, build_facts, collapse_pairs
from pai_core.results.files import DEFAULT_MAX_ROWS, load_run_folder
from pai_core.results.report import ArchitectureScore, FailedRound, RunReport, TrainingSummary
from pai_core.results.rules import RULES


def analyze_run(
    path: str | Path, *, plot: str | Path | None = None, max_rows: int = DEFAULT_MAX_ROWS, log: str | None = None
) -> RunReport:
    """Analyze one run folder; `plot` is a PNG path to draw (None: no plot); `log` is the training output the
    user saw, held against the folder (a disagreement means the folder is not that run). Raises ResultsError."""
    facts, report = analyze_facts(path, max_rows=max_rows)
    if log:
        from pai_core.results.training_log import compare_with_log, read_training_log

        report.findings[:0] = compare_with_log(report, read_training_log(log))
    for finding in report.findings:  # each is about this run folder
        finding.file = report.summary.folder
    if plot is not None:
        from pai_core.results.plot import plot_run

        report.plot_path = str(plot_run(facts, report, plot))
    return report


def analyze_facts(path: str | Path, *, max_rows: int = DEFAULT_MAX_ROWS) -> tuple[RunFacts, RunReport]:
    """The facts read from a folder and the report built on them; any damage becomes a ResultsError."""
    try:
        facts = build_facts(load_run_folder(path, max_rows=max_rows))
        return facts, build_report(facts)
    except ResultsError:
        raise
    except (
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        ArithmeticError,
    ) as error:  # damage we did not foresee
        raise ResultsError(
            f"The files in {path} are inconsistent ({error.__class__.__name__}: {error}). "
            "They may be from an interrupted write; re-run training or pass another folder."
        ) from None


def build_report(facts: RunFacts) -> RunReport:
    architectures = _architectures(facts)
    failed = _failed_rounds(facts)
    summary = _summary(facts, architectures, failed)
    report = RunReport(
        summary=summary,
        architectures=architectures,
        failed_rounds=failed,
        findings=[],
        missing=[*facts.run.notes, *facts.missing],
    )
    for rule in RULES:
        report.findings.extend(rule(facts, report))
    for graph_set in facts.run.sets:
        report.missing.extend(p for p in graph_set.problems if p not in report.missing)
    return report


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _architectures(facts: RunFacts) -> list[ArchitectureScore]:
    rows: list[ArchitectureScore] = []
    arch = facts.best_arch
    if arch is not None and len(arch.columns) >= 2:
        value_column = "Max Valid Scores" if "Max Valid Scores" in arch.columns else arch.columns[1]
        extra_columns = [c for c in arch.columns if c not in {"Param Counts", value_column}]
        for index, (_, row) in enumerate(arch.iterrows()):
            phase = facts.phases[index] if index < len(facts.phases) else None
            rows.append(
                ArchitectureScore(
                    dendrites=index,
                    param_count=int(row["Param Counts"])
                    if _finite(row.get("Param Counts")) is not None
                    else None,
                    best_validation=_finite(row[value_column]),
                    best_epoch=_best_epoch(facts, phase.start, phase.end, _finite(row[value_column]))
                    if phase
                    else None,
                    extra_scores={c: _finite(row[c]) for c in extra_columns},
                )
            )
    else:
        for phase in facts.phases:
            best = facts.best(facts.validation.loc[phase.start : phase.end])
            if best is None:
                continue
            epoch, value = best
            rows.append(
                ArchitectureScore(
                    dendrites=phase.dendrites,
                    param_count=facts.param_counts[phase.dendrites]
                    if phase.dendrites < len(facts.param_counts)
                    else None,
                    best_validation=value,
                    best_epoch=epoch,
                    extra_scores={k: _finite(v.get(epoch)) for k, v in facts.extras.items()},
                )
            )
    for previous, current in itertools.pairwise(rows):
        if previous.best_validation is None or current.best_validation is None:
            continue
        current.gain = facts.gain(current.best_validation, previous.best_validation)
        if previous.best_validation != 0:
            current.relative_gain = current.gain / abs(previous.best_validation)
        if previous.param_count is not None and current.param_count is not None:
            current.added_params = current.param_count - previous.param_count
            if current.added_params > 0:
                current.gain_per_1k_params = current.gain / current.added_params * 1000
    return rows


def _best_epoch(facts: RunFacts, start: int, end: int, value: float | None) -> int | None:
    window = facts.validation.loc[start:end]
    if value is None or window.empty:
        return None
    return int((window - value).abs().idxmin())


def _failed_rounds(facts: RunFacts) -> list[FailedRound]:
    rounds = []
    for snapshot in facts.run.of_kind("no_improve"):
        switches = collapse_pairs(snapshot.switch_epochs)
        validation = snapshot.validation
        start = switches[-1] + 1 if switches else 0
        trained = validation.loc[start:] if validation is not None else pd.Series(dtype="float64")
        before = validation.loc[: start - 1] if validation is not None else pd.Series(dtype="float64")
        best = facts.best(trained) if not trained.empty else None
        to_beat = facts.best(before) if not before.empty else None
        rounds.append(
            FailedRound(
                dendrites_tried=len(switches),
                start_epoch=start,
                epochs=len(trained),
                best_score=best[1] if best else None,
                score_to_beat=to_beat[1] if to_beat else None,
                snapshot=snapshot.infix,
            )
        )
    return rounds


def _epochs_trained(facts: RunFacts) -> int:
    """Final history plus the epochs each reload rewound (visible in the snapshots written before it)."""
    if facts.summary and isinstance(facts.summary.get("total_epochs_trained"), int):
        return max(facts.summary["total_epochs_trained"], facts.epochs)
    total = facts.epochs
    # every known switch history, longest last: the k-th switch epoch is where the reload after snapshot k went
    histories = sorted((collapse_pairs(s.switch_epochs) for s in facts.run.sets), key=len)
    for snapshot in facts.run.sets:
        switches = collapse_pairs(snapshot.switch_epochs)
        if snapshot.kind == "before_switch":
            later = next((h for h in histories if len(h) > len(switches)), None)
            target = later[len(switches)] if later else facts.epochs - 1
            total += max(0, snapshot.length - (target + 1))
        elif snapshot.kind == "no_improve" and switches:
            total += max(0, snapshot.length - (switches[-1] + 1))
        elif snapshot.kind == "before_final":
            total += max(0, snapshot.length - facts.epochs)
    return total


def _is_capacity_test(facts: RunFacts) -> tuple[bool, str]:
    flag = facts.config.get("testing_dendrite_capacity")
    every_epoch = (
        bool(facts.switch_epochs)
        and facts.switch_epochs == list(range(len(facts.switch_epochs)))
        and facts.epochs <= len(facts.switch_epochs) + 1
    )
    if flag is True and (every_epoch or not facts.switch_epochs):
        return True, "testing_dendrite_capacity=True in the config"
    if flag is None and every_epoch:
        return True, "a switch at every epoch (0, 1, 2, ...) and no config JSON, as a capacity test writes"
    return False, ""


def _summary(
    facts: RunFacts, architectures: list[ArchitectureScore], failed: list[FailedRound]
) -> TrainingSummary:
    capacity, capacity_reason = _is_capacity_test(facts)
    scored = [a for a in architectures if a.best_validation is not None]
    baseline = scored[0].best_validation if scored and scored[0].dendrites == 0 else None
    best_arch = None
    for arch in scored:
        if best_arch is None or facts.better(arch.best_validation, best_arch.best_validation):
            best_arch = arch
    best_score = best_arch.best_validation if best_arch else None
    absolute = relative = None
    if baseline is not None and best_score is not None:
        absolute = facts.gain(best_score, baseline)
        relative = absolute / abs(baseline) if baseline else None
    status, reason = _status(facts, capacity, capacity_reason, failed)
    times = facts.main.epoch_times
    times = times[times > 0] if times is not None else None
    return TrainingSummary(
        save_name=facts.run.save_name,
        folder=str(facts.run.folder),
        written_by="pai_core" if facts.summary else "perforatedai",
        direction="maximize" if facts.maximize else "minimize",
        direction_source=facts.direction_source,
        epochs=facts.epochs,
        epochs_trained=_epochs_trained(facts),
        dendrites_added=facts.dendrites,
        switch_epochs=facts.switch_epochs,
        param_counts=[a.param_count for a in architectures if a.param_count is not None]
        or facts.param_counts,
        baseline_score=baseline,
        best_score=best_score,
        best_dendrites=best_arch.dendrites if best_arch else None,
        best_epoch=best_arch.best_epoch if best_arch else None,
        absolute_gain=absolute,
        relative_gain=relative,
        status=status,
        status_reason=reason,
        capacity_test=capacity,
        switch_mode=facts.switch_mode,
        failed_rounds=len(failed),
        extra_score_names=list(facts.extras),
        seconds_per_epoch=float(times.median()) if times is not None and len(times) else None,
        wall_time_s=float(times.sum()) if times is not None and len(times) else None,
    )


def _status(
    facts: RunFacts, capacity: bool, capacity_reason: str, failed: list[FailedRound]
) -> tuple[str, str]:
    if capacity:
        if facts.dendrites >= 3:
            return (
                "capacity_test",
                f"capacity test finished: {facts.dendrites} dendrites added ({capacity_reason})",
            )
        return "capacity_test", (
            f"capacity test stopped after {facts.dendrites} dendrite(s), before the 3rd ({capacity_reason})"
        )
    summary = facts.summary
    max_dendrites = facts.option("max_dendrites")
    if summary and summary.get("completed"):
        reason = summary.get("completion_reason")
        explained = {
            "max_dendrites": f"max_dendrites ({max_dendrites if max_dendrites is not None else facts.dendrites}) "
            "reached",
            "no_improvement": f"the last dendrite round(s) did not improve; best model with {facts.dendrites} "
            "dendrite(s) kept",
            "early_stopping": "early stopping at the first plateau (doing_pai=False)",
        }.get(reason, reason or "training_complete was returned")
        return "completed", f"{explained} (pai_run.json)"
    if facts.run.of_kind("before_final"):
        if max_dendrites is not None and facts.dendrites == int(max_dendrites):
            return (
                "completed",
                f"max_dendrites ({int(max_dendrites)}) reached (before_final snapshot written)",
            )
        if facts.dendrites == 0:
            return "completed", "stopped at the first plateau without adding dendrites (doing_pai=False?)"
        return "completed", "final model reloaded (before_final snapshot written)"
    tries = int(facts.setting("max_dendrite_tries"))
    if failed:
        latest = max(r.dendrites_tried for r in failed)
        attempts = sum(1 for r in failed if r.dendrites_tried == latest)
        if attempts >= tries and latest > facts.dendrites:
            return "completed", (
                f"{attempts} failed round(s) with {latest} dendrite(s) "
                f"(max_dendrite_tries={tries}); best model with {facts.dendrites} dendrite(s) kept"
            )
    if summary is not None:
        return "ended_early", (
            f"pai_run.json says status {summary.get('status')!r}: the loop ended at epoch "
            f"{facts.epochs - 1} before training_complete"
        )
    if facts.switch_mode == "DOING_NO_SWITCH":
        return "ended_early", "switch_mode DOING_NO_SWITCH never reports training_complete; the loop ended it"
    last_switch = facts.switch_epochs[-1] if facts.switch_epochs else None
    since = facts.epochs - 1 - (last_switch if last_switch is not None else -1)
    return "ended_early", (
        f"no sign of training_complete (no before_final or noImprove snapshots): the loop "
        f"ended at epoch {facts.epochs - 1}, {since} epoch(s) after "
        f"{'the last switch' if last_switch is not None else 'the start'}"
    )
