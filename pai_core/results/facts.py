"""Turn the raw files of a run folder into facts: direction, phases, architectures, status.

A "phase" is the stretch of epochs trained with a fixed number of dendrites. The final (main) files are
rewound to the best epoch at every switch, so the epochs trained after that best epoch are only visible
in the snapshot written just before the reload (`_beforeSwitch_<k>`, `before_final`, `noImprove`). Phase
curves therefore come from that snapshot when it exists, else from the main history (cut at the best).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pai_core.options import OPTIONS, SWITCH_MODE_NAMES
from pai_core.results.errors import ResultsError
from pai_core.results.files import GraphSet, RunFolder, validation_series

def collapse_pairs(values: list[int], leading: int = 0) -> list[int]:
    """Upstream writes each switch twice (n->p, p->n); keep one entry per switch.

    `leading` entries (the first param count) are kept as they are. Lists written once per switch
    (pai_core's summary) pass through, except consecutive duplicates which never mean two switches.
    """
    head, rest = values[:leading], values[leading:]
    if rest and len(rest) % 2 == 0 and rest[0::2] == rest[1::2]:
        rest = rest[0::2]
    collapsed: list[int] = []
    for value in rest:
        if not collapsed or collapsed[-1] != value:
            collapsed.append(value)
    return head + collapsed


@dataclass
class Phase:
    """Epochs trained with `dendrites` dendrites; `curve` is the full trained curve when a snapshot had it."""

    dendrites: int
    start: int
    end: int  # inclusive, in the final history
    curve: pd.Series  # validation scores indexed by epoch
    curve_source: str  # "snapshot <infix>" or "main (rewound at the best epoch)"


@dataclass
class RunFacts:
    run: RunFolder
    main: GraphSet
    validation: pd.Series
    extras: dict[str, pd.Series]
    maximize: bool
    direction_source: str
    switch_epochs: list[int]
    param_counts: list[int]
    best_arch: pd.DataFrame | None
    phases: list[Phase]
    config: dict
    summary: dict | None
    missing: list[str] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        if self.validation.empty:
            recorded = (self.summary or {}).get("epochs")
            return recorded if isinstance(recorded, int) and recorded > 0 else 0
        return int(self.validation.index.max()) + 1

    @property
    def dendrites(self) -> int:
        return len(self.switch_epochs)

    def better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b

    def best(self, series: pd.Series) -> tuple[int, float] | None:
        clean = series.dropna()
        if clean.empty:
            return None
        epoch = clean.idxmax() if self.maximize else clean.idxmin()
        return int(epoch), float(clean[epoch])

    def gain(self, new: float, old: float) -> float:
        """Improvement of new over old, positive when better in the run's direction."""
        return new - old if self.maximize else old - new

    def option(self, name: str, default=None):
        value = self.config.get(name, default)
        return default if value is None else value

    def setting(self, name: str):
        """The run's value of option `name`, or pai's default for it (pai_core.options) when not recorded."""
        return self.option(name, OPTIONS[name].default)

    @property
    def switch_mode(self) -> str | None:
        mode = self.config.get("switch_mode")
        if isinstance(mode, (int, float)) and int(mode) in SWITCH_MODE_NAMES:
            return SWITCH_MODE_NAMES[int(mode)]
        return str(mode) if mode is not None else None


def _infer_direction(
    run: RunFolder, main: GraphSet, validation: pd.Series, switch_epochs: list[int]
) -> tuple[bool, str]:
    config = run.config or {}
    if isinstance(config.get("maximizing_score"), bool):
        word = "maximize" if config["maximizing_score"] else "minimize"
        return config[
            "maximizing_score"
        ], f"maximizing_score={config['maximizing_score']} in the config JSON ({word})"
    if run.summary and isinstance(run.summary.get("maximizing_score"), bool):
        return run.summary["maximizing_score"], "maximizing_score in pai_run.json"
    clean = validation.dropna()
    arch = main.best_arch
    if arch is not None and not arch.empty and len(arch.columns) > 1 and len(clean) > 1:
        # best_arch row 0 holds the max (maximizing) or the min (minimizing) of the first phase
        first = clean.loc[: switch_epochs[0]] if switch_epochs else clean
        value = arch.iloc[0, 1]
        if np.isfinite(value) and first.max() != first.min():
            if np.isclose(value, first.max()) and not np.isclose(value, first.min()):
                return True, "inferred: best_arch_scores holds the maximum of the first phase"
            if np.isclose(value, first.min()) and not np.isclose(value, first.max()):
                return False, "inferred: best_arch_scores holds the minimum of the first phase"
    if len(clean) >= 3:
        head = clean.iloc[: max(1, len(clean) // 10)].mean()
        tail = clean.iloc[-max(1, len(clean) // 3) :].mean()
        if tail != head:
            rising = tail > head
            return rising, f"inferred from the scores ({'rising' if rising else 'falling'} over training)"
    return True, "assumed maximize (upstream default); no config JSON and too few scores to infer"


def _phase_curve(
    run: RunFolder, validation: pd.Series, dendrites: int, start: int, end: int, final: bool
) -> tuple[pd.Series, str]:
    """Best available full curve of one phase: the snapshot taken right before its reload, else main."""
    candidates = [
        s for s in run.of_kind("before_switch") if len(collapse_pairs(s.switch_epochs)) == dendrites
    ]
    if final:
        candidates += run.of_kind("before_final")
    for snapshot in candidates:
        snap_val = snapshot.validation
        if snap_val is None or snap_val.empty:
            continue
        curve = snap_val.loc[start:]
        if len(curve) >= end - start + 1:
            return curve, f"snapshot {snapshot.infix!r}"
    return validation.loc[start:end], "main history (rewound at the best epoch)"


def build_facts(run: RunFolder) -> RunFacts:
    main = run.main
    if main is None:
        raise ResultsError(f"No run files found in {run.folder}; pass the folder named after save_name.")
    missing: list[str] = []  # in the order the steps below meet them
    summary = (
        run.summary if run.summary and str(run.summary.get("format", "")).startswith("pai_run") else None
    )
    validation, extras = _scores(run, main, missing)
    switch_epochs = collapse_pairs(_switch_epochs(run, main, summary, missing))
    params_raw = main.param_counts
    if not params_raw and summary and isinstance(summary.get("param_counts"), list):
        params_raw = [int(p) for p in summary["param_counts"]]
    if "param_counts" not in main.files:
        missing.append(f"{run.save_name}param_counts.csv is missing")
    best_arch = _best_arch(run, main, summary, missing)
    param_counts = collapse_pairs(params_raw, leading=1)
    if best_arch is not None and "Param Counts" in best_arch.columns:
        from_arch = [int(p) for p in best_arch["Param Counts"].dropna()]
        if len(from_arch) >= len(param_counts):
            param_counts = from_arch
    maximize, direction_source = _infer_direction(run, main, validation, switch_epochs)
    config = dict(run.config or {})
    if summary and "capacity_test" in summary and "testing_dendrite_capacity" not in config:
        config["testing_dendrite_capacity"] = summary["capacity_test"]
    facts = RunFacts(
        run,
        main,
        validation,
        extras,
        maximize,
        direction_source,
        switch_epochs,
        param_counts,
        best_arch,
        [],
        config,
        summary,
        missing,
    )
    facts.phases = _phases(facts)
    return facts


def _scores(run: RunFolder, main: GraphSet, missing: list[str]) -> tuple[pd.Series, dict[str, pd.Series]]:
    """The validation curve (empty when absent, said in `missing`) and the extra score curves beside it."""
    scores = main.scores
    validation = validation_series(scores)
    if validation is None or validation.dropna().empty:
        missing.append(
            f"{run.save_name}Scores.csv has no validation scores"
            + (" (file missing)" if "scores" not in main.files else " (empty or header-only)")
        )
        validation = pd.Series(dtype="float64")
    validation_name = validation.name
    extras = {
        name: series.dropna()
        for name, series in scores.items()
        if name != validation_name and not ("running" in name.lower() and "valid" in name.lower())
    }
    return validation.dropna(), extras


def _switch_epochs(run: RunFolder, main: GraphSet, summary: dict | None, missing: list[str]) -> list[int]:
    """The switch epochs as logged (pairs not collapsed), from pai_run.json when the CSV is missing."""
    if "switch_epochs" in main.files:
        return main.switch_epochs
    if summary and isinstance(summary.get("switch_epochs"), list):
        return [int(e) for e in summary["switch_epochs"]]
    missing.append(f"{run.save_name}switch_epochs.csv is missing: switches inferred as none")
    return main.switch_epochs


def _best_arch(run: RunFolder, main: GraphSet, summary: dict | None, missing: list[str]) -> pd.DataFrame | None:
    """The best score per architecture, from pai_run.json when the CSV is missing or empty."""
    best_arch = main.best_arch
    if best_arch is not None and best_arch.empty:
        best_arch = None
    if best_arch is None and summary and isinstance(summary.get("best_arch_scores"), list) and (
        summary["best_arch_scores"]
    ):
        best_arch = pd.DataFrame(summary["best_arch_scores"]).apply(pd.to_numeric, errors="coerce")
    if best_arch is None:
        missing.append(
            f"{run.save_name}_best_arch_scores.csv is missing or empty: architectures rebuilt from scores"
        )
    return best_arch


def _phases(facts: RunFacts) -> list[Phase]:
    phases = []
    last_epoch = facts.epochs - 1
    start = 0
    bounds = [*facts.switch_epochs, last_epoch]
    for dendrites, end in enumerate(bounds):
        final = dendrites == len(facts.switch_epochs)
        if end < start:  # no epochs in this phase (e.g. none after the last switch yet)
            continue
        curve, source = _phase_curve(facts.run, facts.validation, dendrites, start, end, final)
        phases.append(Phase(dendrites, start, end, curve, source))
        start = end + 1
    return phases
