"""Analysis rules: each reads the run's facts and returns findings, with a recommendation when there is a
change to make (the exact config call, the figures behind it, and how sure we are).

Thresholds follow the perforatedai-analyze rules (assistant_workflows.md section 4.3): about +1-2 % over
the last epochs means a switch came too early, a train/validation gap above about 5-10 points means
overfitting, gains that flatten give the max_dendrites to use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pai_core.results.facts import RunFacts
from pai_core.results.report import RunFinding, RunReport

PREMATURE_GAIN = 0.01  # relative gain over the last epochs before a switch that means "still improving"
WORTHWHILE_GAIN = 0.005  # relative gain a dendrite must bring to be worth its parameters
FLAT_SHARE = 0.15  # a gain below this share of the largest gain counts as flat
INSTABILITY_DROP = 0.05  # relative drop right after a switch that means unstable


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


def _pct(value: float) -> str:
    return f"{value:+.1%}"


def _recent_gain(facts: RunFacts, curve: pd.Series, window: int) -> tuple[float, float, float] | None:
    """(relative gain, best of the last `window` epochs, best before them) of a curve, or None if too short."""
    curve = curve.dropna()
    if len(curve) < window + 2:
        return None
    before, last = curve.iloc[:-window], curve.iloc[-window:]
    best_before = before.max() if facts.maximize else before.min()
    best_last = last.max() if facts.maximize else last.min()
    if best_before == 0:
        return None
    return facts.gain(best_last, best_before) / abs(best_before), float(best_last), float(best_before)


def _score_scale(facts: RunFacts) -> str:
    """'percent' (0-100), 'fraction' (0-1), 'loss' (minimized) or 'other': decides how gaps are judged."""
    if not facts.maximize:
        return "loss"
    values = facts.validation.dropna()
    if values.empty:
        return "other"
    if values.min() >= 0 and values.max() <= 1.0:
        return "fraction"
    if values.min() >= 0 and values.max() <= 100:
        return "percent"
    return "other"


def _extra_named(facts: RunFacts, word: str) -> str | None:
    return next((name for name in facts.extras if word in name.lower()), None)


# --------------------------------------------------------------------------------------------- rules


def capacity_test(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    s = report.summary
    if not s.capacity_test:
        return []
    epochs = ", ".join(map(str, s.switch_epochs)) or "none"
    if s.dendrites_added >= 3:
        return [
            RunFinding(
                code="PAI501",
                severity="info",
                message=(
                    f"Capacity test: {s.dendrites_added} dendrites added at epochs {epochs}, one per epoch, params "
                    f"{' -> '.join(map(str, s.param_counts))}. The dendrite plumbing works; one epoch per "
                    "architecture says nothing about what dendrites buy."
                ),
                fix="GPA.pc.set_testing_dendrite_capacity(False)",
                why=(
                    f"the capacity test passed ({s.dendrites_added} dendrites at epochs {epochs}); "
                    "turn it off and run the real experiment"
                ),
                confidence="high",
            )
        ]
    return [
        RunFinding(
            code="PAI502",
            severity="error",
            message=(
                f"Capacity test stopped after {s.dendrites_added} dendrite(s) (switches at {epochs}); it should add "
                "3 and then return training_complete."
            ),
            fix="Call add_validation_score every epoch in a `while True:` loop until it returns training_complete",
            why=(
                f"only {s.epochs} epoch(s) were recorded; the loop ended or crashed before the 3rd dendrite "
                "(look at the log for the error; `pai diagnose` helps)"
            ),
            confidence="high",
        )
    ]


def no_dendrites(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    s = report.summary
    if s.dendrites_added or s.capacity_test or facts.validation.empty:
        return []
    best = facts.best(facts.validation)
    causes, changes, confidence = _why_no_switch(facts, report, best)
    mode = facts.switch_mode
    return [
        RunFinding(
            code="PAI503",
            severity="error",
            message=(
                f"No dendrites were ever added in {facts.epochs} epochs (switch_epochs empty): an integration issue. "
                + "; ".join(causes)
                + "."
            ),
            fix="; ".join(changes),
            why=f"{facts.epochs} epochs, best {_fmt(best[1]) if best else '-'} at epoch {best[0] if best else '-'}, "
            f"switch mode {mode or 'unknown (no config JSON; default DOING_HISTORY)'}",
            confidence=confidence,
        )
    ]


def _n_epochs_to_switch(facts: RunFacts):
    """The configured n_epochs_to_switch (the first, when the run logged a list)."""
    n_switch = facts.setting("n_epochs_to_switch")
    return n_switch[0] if isinstance(n_switch, list) and n_switch else n_switch


def _why_no_switch(facts: RunFacts, report: RunReport, best) -> tuple[list[str], list[str], str]:
    """(causes, changes, confidence) of a run that never switched, from its switch mode and its curve."""
    causes, changes = [], []
    confidence = "medium"
    n_switch = _n_epochs_to_switch(facts)
    since_best = facts.epochs - 1 - best[0] if best else 0
    mode = facts.switch_mode
    loop_fix = ("replace the fixed `for epoch in range(...)` loop with `while True:` and break when "
                "add_validation_score returns training_complete")
    if report.failed_rounds:
        causes.append(
            f"{len(report.failed_rounds)} noImprove snapshot(s) but no switch: every dendrite set was "
            "rejected, or they are learning-rate retries"
        )
    if mode == "DOING_NO_SWITCH":
        causes.append("switch_mode is DOING_NO_SWITCH, which never adds dendrites")
        changes.append("GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)")
        confidence = "high"
    elif facts.option("testing_dendrite_capacity") is True:
        causes.append(
            "testing_dendrite_capacity is True but no switch happened: add_validation_score ran "
            f"{facts.epochs} time(s) only"
        )
        changes.append("call add_validation_score once per epoch")
        confidence = "high"
    elif mode == "DOING_FIXED_SWITCH":
        needed = max(int(facts.setting("fixed_switch_num")), int(facts.setting("first_fixed_switch_num")))
        if facts.epochs < needed:
            causes.append(
                f"fixed switch mode needs {needed} epochs before the first switch, the run had {facts.epochs}"
            )
            changes.append(loop_fix)
            changes.append(f"or switch earlier: GPA.pc.set_fixed_switch_num({max(5, facts.epochs // 2)})")
            confidence = "high"
    elif since_best < int(n_switch or 10):
        causes.append(
            f"the loop ended {since_best} epoch(s) after the last improvement (epoch {best[0] if best else '?'}), "
            f"fewer than n_epochs_to_switch={n_switch}: a fixed-length loop ended before a plateau"
        )
        changes.append(loop_fix)
        confidence = "high"
        if facts.epochs < 3 * int(n_switch or 10):
            changes.append(
                f"GPA.pc.set_n_epochs_to_switch({max(3, min(int(n_switch or 10), facts.epochs // 4))})"
            )
    else:
        causes.append(
            f"no improvement for {since_best} epochs (>= n_epochs_to_switch={n_switch}) yet no switch: "
            "add_validation_score was probably not called every epoch, or the training loop ignores "
            "its return values"
        )
        changes.append("call add_validation_score(score, model) every epoch and use the model it returns")
    if not causes:
        causes.append("the run was too short or the tracker was not driving the loop")
        changes.append("replace the fixed loop with `while True:` driven by training_complete")
    return causes, changes, confidence


def ended_early(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    s = report.summary
    if s.status != "ended_early" or not s.dendrites_added or facts.validation.empty:
        return []
    final = facts.phases[-1] if facts.phases else None
    still = _recent_gain(facts, final.curve, min(5, max(2, len(final.curve) // 3))) if final else None
    improving = still is not None and still[0] > PREMATURE_GAIN
    why = s.status_reason
    if improving:
        why += f"; the last phase was still improving ({_pct(still[0])} over its last epochs)"
    return [
        RunFinding(
            code="PAI504",
            severity="warning",
            message=f"Training did not report completion: {s.status_reason}.",
            fix="replace the fixed-length loop with `while True:` and break when add_validation_score returns "
            "training_complete (bound the time with GPA.pc.set_max_dendrites(N) instead)",
            why=why,
            confidence="high" if improving or s.written_by == "pai_core" else "medium",
        )
    ]


def dendrite_impact(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    s = report.summary
    if s.capacity_test or not s.dendrites_added or s.baseline_score is None or s.best_score is None:
        return []
    parts = []
    for arch in report.architectures[1:]:
        if arch.gain is None:
            continue
        per = (
            f", {_fmt(arch.gain_per_1k_params)} per 1k added params"
            if arch.gain_per_1k_params is not None
            else ""
        )
        rel = f" ({_pct(arch.relative_gain)})" if arch.relative_gain is not None else ""
        parts.append(
            f"{arch.dendrites} dendrite(s): {_fmt(arch.best_validation)}, {_fmt(arch.gain)}{rel}{per}"
        )
    noise = _noise(facts)
    verdict = "helped" if (s.absolute_gain or 0) > 0 else "did not help"
    if s.absolute_gain is not None and s.absolute_gain > 0 and noise and s.absolute_gain <= 2 * noise:
        verdict = f"gave a gain within run-to-run variance (epoch-to-epoch noise ~{_fmt(noise)})"
    message = (
        f"Dendrites {verdict}: baseline {_fmt(s.baseline_score)} -> best {_fmt(s.best_score)} with "
        f"{s.best_dendrites} dendrite(s) ({_fmt(s.absolute_gain)}, "
        f"{_pct(s.relative_gain) if s.relative_gain is not None else '-'}). " + "; ".join(parts) + "."
    )
    findings = [RunFinding(code="PAI505", severity="info", message=message)]
    if (s.absolute_gain or 0) <= 0 and report.architectures[-1].dendrites > 0:
        with_dendrites = [
            a.best_validation for a in report.architectures[1:] if a.best_validation is not None
        ]
        findings.append(
            RunFinding(
                code="PAI506",
                severity="warning",
                message="No dendrite count beat the baseline.",
                fix="check maximizing_score and the score passed to add_validation_score; then shrink the base "
                "model until accuracy drops, and perforate only later layers",
                why=f"baseline {_fmt(s.baseline_score)}, with dendrites {', '.join(map(_fmt, with_dendrites))}",
                confidence="medium",
            )
        )
    return findings


def _noise(facts: RunFacts) -> float | None:
    """Typical epoch-to-epoch change near the end of the baseline phase (a stand-in for run-to-run variance)."""
    if not facts.phases:
        return None
    curve = facts.phases[0].curve.dropna()
    tail = curve.iloc[-10:]
    if len(tail) < 4:
        return None
    return float(np.median(np.abs(np.diff(tail.to_numpy())))) or None


def max_dendrites(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    """How many dendrites to keep: max_dendrites reached, gains that flatten, a next dendrite that failed every
    try, or gains still coming when max_dendrites stopped the run."""
    s = report.summary
    archs = [a for a in report.architectures if a.best_validation is not None]
    if s.capacity_test or len(archs) < 2 and not report.failed_rounds:
        return []
    configured = facts.option("max_dendrites")
    findings = []
    if s.status == "completed" and configured is not None and s.dendrites_added == int(configured) and (
        "max_dendrites" in s.status_reason
    ):
        findings.append(
            RunFinding(
                code="PAI507",
                severity="info",
                message=f"max_dendrites ({int(configured)}) reached: training ended there.",
            )
        )
    gains = [a.relative_gain if a.relative_gain is not None else 0.0 for a in archs[1:]]
    useful = _useful_dendrites(gains)
    failed_latest = [r for r in report.failed_rounds if r.dendrites_tried == s.dendrites_added + 1]
    if 1 <= useful < len(gains):
        findings.append(_diminishing_returns(facts, archs, gains, useful))
    elif useful == 0 and gains:
        pass  # dendrite_impact reports "no gain"
    elif failed_latest:
        findings.append(_next_dendrite_failed(facts, report, failed_latest))
    elif useful == len(gains) and useful >= 1 and configured is not None and s.dendrites_added >= int(configured):
        findings.append(
            RunFinding(
                code="PAI510",
                severity="info",
                message=f"Every dendrite still helped ({_gain_figures(archs)}) when max_dendrites={int(configured)} "
                "stopped training.",
                fix=f"GPA.pc.set_max_dendrites({int(configured) + 2})",
                why=f"gains did not flatten (last {_pct(gains[-1])}); more dendrites and a longer run may help",
                confidence="medium",
            )
        )
    return findings


def _worthwhile(gains: list[float]) -> float:
    """The relative gain a dendrite must bring: WORTHWHILE_GAIN, or a share of the largest gain."""
    return max(WORTHWHILE_GAIN, FLAT_SHARE * max(gains, default=0.0))


def _useful_dendrites(gains: list[float]) -> int:
    """How many dendrites, counted from the first, each brought a worthwhile gain."""
    threshold, useful = _worthwhile(gains), 0
    for gain in gains:
        if not gain >= threshold:
            break
        useful += 1
    return useful


def _gain_figures(archs) -> str:
    return ", ".join(f"{a.dendrites}: {_pct(a.relative_gain)}" for a in archs[1:] if a.relative_gain is not None)


def _diminishing_returns(facts: RunFacts, archs, gains: list[float], useful: int) -> RunFinding:
    test_note, test_agrees = _test_agrees(facts, archs, useful)
    figures = _gain_figures(archs)
    added = archs[useful + 1].added_params
    return RunFinding(
        code="PAI508",
        severity="warning",
        message=f"Diminishing returns after {useful} dendrite(s): relative gain per added dendrite {figures}.",
        fix=f"GPA.pc.set_max_dendrites({useful})",
        why=(
            f"dendrite {useful + 1} gained less than {_worthwhile(gains):.1%} (gains {figures}) for "
            f"{_fmt(added) if added else 'more'} added parameters{test_note}"
        ),
        confidence="high" if test_agrees else "medium",
    )


def _test_agrees(facts: RunFacts, archs, useful: int) -> tuple[str, bool]:
    """(a note for the why, True) when the test score is worse with more than `useful` dendrites."""
    test_name = _extra_named(facts, "test")
    if not test_name or useful < 1 or len(archs) <= useful + 1:
        return "", False
    tests = [a.extra_scores.get(test_name) for a in archs]
    later = tests[useful + 1 :]
    if tests[useful] is None or any(t is None for t in later):
        return "", False
    if all(facts.better(t, tests[useful]) for t in later):
        return "", False
    return (
        f"; {test_name} score with {useful} dendrite(s) {_fmt(tests[useful])} vs "
        f"{', '.join(_fmt(t) for t in later)} with more"
    ), True


def _next_dendrite_failed(facts: RunFacts, report: RunReport, failed_latest) -> RunFinding:
    s = report.summary
    tries = int(facts.setting("max_dendrite_tries"))
    wasted = sum(r.epochs or 0 for r in failed_latest)
    return RunFinding(
        code="PAI509",
        severity="info",
        message=(
            f"Dendrite {s.dendrites_added + 1} was tried {len(failed_latest)} time(s) and never beat the "
            f"best with {s.dendrites_added}."
        ),
        fix=f"GPA.pc.set_max_dendrites({max(1, s.dendrites_added)})",
        why=(
            f"{len(failed_latest)} failed round(s) with {s.dendrites_added + 1} dendrites cost {wasted} epochs "
            f"(best {_fmt(failed_latest[-1].best_score)} vs {_fmt(failed_latest[-1].score_to_beat)} to beat); "
            f"stopping at {max(1, s.dendrites_added)} saves them (or raise max_dendrite_tries above "
            f"{tries} to keep searching)"
        ),
        confidence="medium",
    )


def failed_rounds(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    rounds = report.failed_rounds
    if not rounds or not report.summary.dendrites_added:
        return []
    detail = "; ".join(
        f"{r.dendrites_tried} dendrite(s) from epoch {r.start_epoch} for {r.epochs} epochs: best {_fmt(r.best_score)} "
        f"vs {_fmt(r.score_to_beat)} to beat"
        for r in rounds
    )
    return [
        RunFinding(
            code="PAI511",
            severity="info",
            message=f"{len(rounds)} failed dendrite round(s) (noImprove snapshots): {detail}.",
        )
    ]


def _switch_window(length: int) -> int:
    return min(5, max(2, length // 3))


def premature_switches(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    s = report.summary
    if s.capacity_test or facts.switch_mode == "DOING_SWITCH_EVERY_TIME" or not facts.switch_epochs:
        return []
    hits = []
    from_snapshot = True
    for phase in facts.phases:
        if phase.dendrites >= len(facts.switch_epochs):
            break
        curve = phase.curve.dropna()
        window = _switch_window(len(curve))
        recent = _recent_gain(facts, curve, window)
        if recent is None or recent[0] <= PREMATURE_GAIN:
            continue
        snapshot = phase.curve_source.startswith("snapshot")
        if not snapshot and facts.switch_mode == "DOING_HISTORY":
            continue  # the main history is cut at the best epoch: a rise into it proves nothing in history mode
        from_snapshot &= snapshot
        hits.append((facts.switch_epochs[phase.dendrites], phase, window, recent))
    if not hits:
        return []
    detail = "; ".join(
        f"switch at epoch {epoch}: {_pct(r[0])} over the last {w} epochs ({_fmt(r[2])} -> {_fmt(r[1])})"
        for epoch, _, w, r in hits
    )
    largest = max(r[0] for *_, r in hits)
    mode = facts.switch_mode
    if mode == "DOING_FIXED_SWITCH":
        fixed = int(facts.setting("fixed_switch_num"))
        if all(epoch == facts.switch_epochs[0] for epoch, *_ in hits) and len(facts.switch_epochs) > 1:
            change = f"GPA.pc.set_first_fixed_switch_num({fixed * 2})"  # only the first phase needed longer
        else:
            change = f"GPA.pc.set_fixed_switch_num({fixed * 2})"
    else:
        change = f"GPA.pc.set_n_epochs_to_switch({int(int(_n_epochs_to_switch(facts) or 10) * 1.5)})"
    confidence = (
        "high" if largest > 2 * PREMATURE_GAIN and from_snapshot else "medium" if from_snapshot else "low"
    )
    return [
        RunFinding(
            code="PAI512",
            severity="warning",
            message=f"Dendrites were added while validation was still improving: {detail}.",
            fix=change,
            why=(
                f"{detail}; each phase should reach a plateau before the next dendrite"
                + ("" if from_snapshot else " (pre-switch curve from the rewound main history only)")
            ),
            confidence=confidence,
        )
    ]


def unstable_after_switch(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    if report.summary.capacity_test:
        return []
    hits = []
    for phase in facts.phases[1:]:
        switch_epoch = phase.start - 1
        if switch_epoch not in facts.validation.index:
            continue
        at_switch = float(facts.validation[switch_epoch])
        after = phase.curve.dropna().loc[phase.start : phase.start + 2]
        if after.empty or at_switch == 0:
            continue
        worst = after.min() if facts.maximize else after.max()
        drop = -facts.gain(worst, at_switch) / abs(at_switch)
        before = facts.validation.loc[:switch_epoch].iloc[-10:]
        noise = (
            float(np.median(np.abs(np.diff(before.to_numpy())))) / abs(at_switch) if len(before) > 3 else 0.0
        )
        if drop > max(INSTABILITY_DROP, 3 * noise):
            hits.append((switch_epoch, at_switch, float(worst), drop))
    if not hits:
        return []
    multiplier = float(facts.setting("candidate_weight_initialization_multiplier"))
    detail = "; ".join(
        f"after the switch at epoch {e}: {_fmt(a)} -> {_fmt(w)} ({-d:+.1%}) within 3 epochs"
        for e, a, w, d in hits
    )
    largest = max(h[3] for h in hits)
    return [
        RunFinding(
            code="PAI513",
            severity="warning",
            message=f"Validation became worse right after dendrites were added: {detail}.",
            fix=f"GPA.pc.set_candidate_weight_initialization_multiplier({multiplier / 10:g})",
            why=(
                f"{detail}; smaller initial dendrite weights (now {multiplier:g}) and a lower learning rate after "
                "switches keep the new dendrite from disturbing the trained network"
            ),
            confidence="medium" if largest > 2 * INSTABILITY_DROP else "low",
        )
    ]


def learning_rate(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    lr = facts.main.learning_rate
    if lr is None or lr.dropna().empty:
        if "learning_rate" not in facts.main.files:
            report.missing.append(
                f"{facts.run.save_name}learning_rate.csv absent (drawing_extra_graphs False or graphs disabled): learning-rate "
                "checks skipped"
            )
        return []
    lr = lr.dropna()
    lr = lr[lr > 0]
    if lr.empty:
        return []
    found = [_lr_decayed_too_fast(facts, lr)]
    if facts.switch_epochs and _not_complete(report):
        found.append(_lr_search_lock(facts, lr))
    return [f for f in found if f is not None]


def _lr_decayed_too_fast(facts: RunFacts, lr: pd.Series) -> RunFinding | None:
    """The learning rate below 1% of its start for a third of the epochs before the first dendrite."""
    first_switch = facts.switch_epochs[0] if facts.switch_epochs else int(lr.index.max())
    baseline = lr.loc[:first_switch]
    initial = float(baseline.iloc[0])
    tiny = baseline[baseline < initial / 100]
    if len(baseline) < 10 or len(tiny) <= len(baseline) / 3:
        return None
    return RunFinding(
        code="PAI514",
        severity="warning",
        message=(
            f"The learning rate fell below 1% of its start ({_fmt(initial)} -> {_fmt(float(baseline.iloc[-1]))}) "
            f"by epoch {int(tiny.index[0])}, and stayed there for {len(tiny)} of the {len(baseline)} epochs "
            "before the first dendrite."
        ),
        fix="slow the scheduler: ReduceLROnPlateau patience 5 -> 10, StepLR step_size x2 with gamma 0.5, "
        "or ExponentialLR gamma 0.9 -> 0.95",
        why="with a near-zero learning rate the network plateaus because it cannot move, not because it is "
        "saturated, so dendrites are added too early",
        confidence="medium",
    )


def _lr_search_lock(facts: RunFacts, lr: pd.Series) -> RunFinding | None:
    """A constant learning rate since the last switch, with find_best_lr on: the search waits forever."""
    after = lr.loc[facts.switch_epochs[-1] + 1 :]
    n_switch = facts.setting("n_epochs_to_switch")
    n_switch = int(n_switch[0] if isinstance(n_switch, list) and n_switch else n_switch or 10)
    if len(after) <= 3 * n_switch or after.nunique() != 1 or not facts.setting("find_best_lr"):
        return None
    return RunFinding(
        code="PAI515",
        severity="warning",
        message=(
            f"{len(after)} epochs since the last switch at a constant learning rate "
            f"{_fmt(float(after.iloc[0]))} without a new switch: the learning-rate search waits for an LR "
            "drop that never comes."
        ),
        fix="GPA.pc.set_find_best_lr(False)",
        why=(
            f"after a switch, with find_best_lr on, switches are blocked until the scheduler lowers the LR; "
            f"it stayed at {_fmt(float(after.iloc[0]))} for {len(after)} epochs "
            f"(n_epochs_to_switch={n_switch})"
        ),
        confidence="medium",
    )


def _not_complete(report: RunReport) -> bool:
    return report.summary.status != "completed"


def overfitting(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    s = report.summary
    train_name = _extra_named(facts, "train")
    if not train_name or s.capacity_test:
        return []
    best = next((a for a in report.architectures if a.dendrites == s.best_dendrites), None)
    if best is None or best.best_validation is None:
        return []
    train = best.extra_scores.get(train_name)
    if train is None and best.best_epoch is not None:
        train = facts.extras[train_name].get(best.best_epoch)
    if train is None:
        return []
    test_name = _extra_named(facts, "test")
    test = best.extra_scores.get(test_name) if test_name else None
    extra = f", {test_name} {_fmt(test)}" if test is not None else ""
    at = f"{extra} at the best epoch with {best.dendrites} dendrite(s)"
    measured = _train_validation_gap(facts, train_name, train, best.best_validation, at)
    if measured is None:
        return []
    gap, confidence = measured
    rising = _rising_after_best(facts)
    if rising:
        gap += f"; {rising}"
        confidence = "high" if confidence != "low" else "medium"
    change = (
        "regularize: weight_decay 1e-4..1e-3 in the optimizer, dropout 0.3-0.5, label smoothing 0.1, "
        "augmentation; or shrink the base model"
    )
    fewer = _best_test_dendrites(facts, report)
    if fewer is not None and 0 < fewer < best.dendrites:
        change += f" / use fewer dendrites: GPA.pc.set_max_dendrites({fewer}) (best {test_name} score)"
    return [
        RunFinding(
            code="PAI516",
            severity="warning",
            message=f"Overfitting: {gap}.",
            fix=change,
            why=f"{gap}; aim for a train/validation gap within 2-5 %",
            confidence=confidence,
        )
    ]


def _train_validation_gap(facts: RunFacts, train_name: str, train: float, val: float,
                          at: str) -> tuple[str, str] | None:
    """(the gap in words, confidence) when it means overfitting: a validation loss 1.5x the train loss, or a
    validation score more than 5 points (or 5 %) below train; `at` says where the scores come from."""
    scale = _score_scale(facts)
    if scale == "loss":
        if train <= 0 or val <= 0:
            return None
        ratio = val / train
        if ratio < 1.5:
            return None
        return (f"{train_name} loss {_fmt(train)} vs validation {_fmt(val)}{at}: validation is {ratio:.1f}x train",
                "high" if ratio >= 2 else "medium")
    points = (train - val) * (100 if scale == "fraction" else 1)
    if scale == "other":
        points = (train - val) / abs(val) * 100 if val else 0
    if points <= 5:
        return None
    unit = "points" if scale != "other" else "%"
    return (f"{train_name} {_fmt(train)} vs validation {_fmt(val)}{at}: a gap of {points:.1f} {unit}",
            "high" if points > 10 else "low")


def _rising_after_best(facts: RunFacts) -> str:
    """Validation getting worse after the best while train keeps improving, seen in before_final snapshots."""
    for snapshot in facts.run.of_kind("before_final"):
        val = snapshot.validation
        if val is None or len(val) <= facts.epochs + 2:
            continue
        after = val.loc[facts.epochs :]
        end = float(after.iloc[-1])
        best = facts.best(facts.validation)
        if best and facts.gain(end, best[1]) < -abs(best[1]) * 0.05:
            return (
                f"after the best epoch validation went from {_fmt(best[1])} to {_fmt(end)} over the "
                f"{len(after)} rewound epochs of the last phase"
            )
    return ""


def _best_test_dendrites(facts: RunFacts, report: RunReport) -> int | None:
    test_name = _extra_named(facts, "test")
    values = [(a.dendrites, a.extra_scores.get(test_name)) for a in report.architectures] if test_name else []
    values = [(d, v) for d, v in values if v is not None]
    if not values:
        return None
    best = values[0]
    for d, v in values[1:]:
        if facts.better(v, best[1]):
            best = (d, v)
    return best[0]


def test_scores(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    test_name = _extra_named(facts, "test")
    if not test_name or report.summary.capacity_test:
        return []
    values = [(a.dendrites, a.extra_scores.get(test_name)) for a in report.architectures]
    values = [(d, v) for d, v in values if v is not None]
    if not values:
        return []
    listing = ", ".join(f"{d} dendrite(s): {_fmt(v)}" for d, v in values)
    best_val = next((a for a in report.architectures if a.dendrites == report.summary.best_dendrites), None)
    best_test = values[0]
    for d, v in values:
        if facts.better(v, best_test[1]):
            best_test = (d, v)
    note = ""
    if best_val is not None and best_test[0] != best_val.dendrites:
        note = (
            f" The best {test_name} score is with {best_test[0]} dendrite(s), not with the best-validation "
            f"architecture ({best_val.dendrites})."
        )
    return [
        RunFinding(
            code="PAI517",
            severity="info",
            message=f"{test_name} score per architecture (at its best validation epoch): {listing}.{note}",
        )
    ]


def module_scores(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    pb = facts.main.pb_scores
    ever = {
        name.split("Layer", 1)[-1].strip(): float(series.dropna().iloc[-1])
        for name, series in pb.items()
        if "ever" in name.lower() and not series.dropna().empty
    }
    if not ever:
        return []
    ranked = sorted(ever.items(), key=lambda kv: kv[1], reverse=True)
    listing = ", ".join(f"{name} {_fmt(v)}" for name, v in ranked)
    weak = [name for name, v in ranked if v < 0.001]
    findings = [
        RunFinding(code="PAI518", severity="info", message=f"Per-module dendrite scores: {listing}.")
    ]
    if weak and len(weak) < len(ranked):
        findings.append(
            RunFinding(
                code="PAI519",
                severity="warning",
                message=f"{len(weak)} module(s) learn no correlation (< 0.001): {', '.join(weak)}.",
                fix=f"GPA.pc.append_module_ids_to_track({weak!r})",
                why=f"scores {listing}; dendrites on these modules add parameters without learning anything",
                confidence="medium",
            )
        )
    elif sum(v < 0.01 for _, v in ranked) > len(ranked) / 2 and len(ranked) > 2:
        keep = [name for name, _ in ranked[:2]]
        drop = [name for name, _ in ranked[2:]]
        findings.append(
            RunFinding(
                code="PAI519",
                severity="info",
                message=f"Most modules score below 0.01; the best are {', '.join(keep)}.",
                fix=f"GPA.pc.append_module_ids_to_track({drop!r})",
                why=f"scores {listing}: keep dendrites on the 1-2 best modules only",
                confidence="low",
            )
        )
    return findings


def graph_present(facts: RunFacts, report: RunReport) -> list[RunFinding]:
    png = f"{facts.run.save_name}.png"
    if png not in facts.run.other_files and not facts.summary:
        report.missing.append(
            f"{png} absent: the run's own graph is the proof add_validation_score ran "
            "(graphs may have been disabled)"
        )
    return []


Rule = Callable[[RunFacts, RunReport], list[RunFinding]]
RULES: tuple[Rule, ...] = (
    capacity_test,
    no_dendrites,
    ended_early,
    dendrite_impact,
    max_dendrites,
    failed_rounds,
    premature_switches,
    unstable_after_switch,
    learning_rate,
    overfitting,
    test_scores,
    module_scores,
    graph_present,
)
