"""The analysis report: plain pydantic data (for `--json` and MCP tools) plus a readable text form."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from pai_core.findings import Finding

Confidence = Literal["high", "medium", "low"]


class RunFinding(Finding):
    """Something the run shows (codes PAI501-PAI599, `file` the run folder); `fix` is set when there is something
    to change: the exact config call or code change, with the figures behind it and how sure we are."""

    why: str | None = Field(None, description="The figures from this run that call for the fix")
    confidence: Confidence | None = Field(None, description="How sure the fix is")


class Recommendation(BaseModel):
    """One change to make (a finding's fix): the exact call, the figures that triggered it, how sure we are."""

    change: str = Field(description="The exact config call or code change, e.g. GPA.pc.set_max_dendrites(2)")
    why: str = Field(description="The figures from this run that triggered the recommendation")
    confidence: Confidence


class ArchitectureScore(BaseModel):
    """Best validation score reached with a given number of dendrites (one row of best_arch_scores)."""

    dendrites: int
    param_count: int | None = None
    best_validation: float | None = None
    best_epoch: int | None = None
    extra_scores: dict[str, float | None] = Field(default_factory=dict)
    gain: float | None = Field(
        None,
        description="Improvement over the previous dendrite count (score units, "
        "positive = better whatever the direction)",
    )
    relative_gain: float | None = Field(None, description="gain / |previous score|")
    added_params: int | None = None
    gain_per_1k_params: float | None = None


class FailedRound(BaseModel):
    """A dendrite round that did not beat the previous best (a noImprove snapshot)."""

    dendrites_tried: int
    start_epoch: int | None = None
    epochs: int | None = None
    best_score: float | None = None
    score_to_beat: float | None = None
    snapshot: str


class TrainingSummary(BaseModel):
    save_name: str
    folder: str
    written_by: Literal["pai_core", "perforatedai"]
    direction: Literal["maximize", "minimize"]
    direction_source: str
    epochs: int = Field(description="Epochs in the final (rewound) history")
    epochs_trained: int = Field(
        description="Epochs actually trained, including rewound ones when snapshots tell"
    )
    dendrites_added: int = Field(description="Dendrites in the final model")
    switch_epochs: list[int]
    param_counts: list[int] = Field(description="Parameter count per dendrite count (0, 1, 2, ...)")
    baseline_score: float | None = None
    best_score: float | None = None
    best_dendrites: int | None = None
    best_epoch: int | None = None
    absolute_gain: float | None = None
    relative_gain: float | None = None
    status: Literal["completed", "capacity_test", "ended_early", "unknown"]
    status_reason: str
    capacity_test: bool = False
    switch_mode: str | None = None
    failed_rounds: int = 0
    extra_score_names: list[str] = Field(default_factory=list)
    seconds_per_epoch: float | None = Field(None, description="Median epoch time from Times.csv")
    wall_time_s: float | None = Field(None, description="Sum of the epoch times in the final history")


class RunReport(BaseModel):
    summary: TrainingSummary
    architectures: list[ArchitectureScore]
    failed_rounds: list[FailedRound] = Field(default_factory=list)
    findings: list[RunFinding]
    missing: list[str] = Field(default_factory=list, description="Files or data that were absent or damaged")
    plot_path: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recommendations(self) -> list[Recommendation]:
        order = {"high": 0, "medium": 1, "low": 2}
        recs = [Recommendation(change=f.fix, why=f.why or "", confidence=f.confidence or "low")
                for f in self.findings if f.fix is not None]
        return sorted(recs, key=lambda r: order[r.confidence])

    def finding(self, code: str) -> RunFinding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_text(self) -> str:
        """For the terminal: the summary, the table per dendrite count, failed rounds, findings, what to change."""
        findings = [f"  {f.code} {f.severity}: {f.message}" for f in self.findings]
        changes = []
        for r in self.recommendations:
            changes += [f"  ({r.confidence}) {r.change}", f"      why: {r.why}"]
        lines = _summary_lines(self.summary)
        for section in (
            _architecture_lines(self.architectures),
            _failed_round_lines(self.failed_rounds),
            ["Findings:", *findings] if findings else [],
            ["Recommendations:", *changes] if changes else [],
            ["Missing or partial data:", *(f"  - {m}" for m in self.missing)] if self.missing else [],
            [f"Plot: {self.plot_path}"] if self.plot_path else [],
        ):
            if section:
                lines += ["", *section]
        return "\n".join(lines)


def _summary_lines(s: TrainingSummary) -> list[str]:
    lines = [f"Run {s.save_name!r} ({s.folder}), written by {s.written_by}"]
    lines.append(f"  direction: {s.direction} ({s.direction_source})")
    lines.append(f"  status: {s.status} - {s.status_reason}")
    trained = f" ({s.epochs_trained} trained including rewound epochs)" if s.epochs_trained > s.epochs else ""
    timing = f"; {s.seconds_per_epoch:.3g} s/epoch, {s.wall_time_s:.4g} s in all" if s.seconds_per_epoch else ""
    lines.append(f"  epochs: {s.epochs}{trained}{timing}")
    when = ", ".join(str(e) for e in s.switch_epochs) or "never"
    lines.append(f"  dendrites added: {s.dendrites_added} (switch epochs: {when}); failed rounds: {s.failed_rounds}")
    if s.baseline_score is not None and s.best_score is not None:
        rel = f" ({s.relative_gain:+.2%})" if s.relative_gain is not None else ""
        lines.append(
            f"  baseline {fmt_number(s.baseline_score)} -> best {fmt_number(s.best_score)} with {s.best_dendrites} "
            f"dendrite(s): gain {fmt_number(s.absolute_gain)}{rel}"
        )
    return lines


def _architecture_lines(architectures: list[ArchitectureScore]) -> list[str]:
    """The table of best scores per dendrite count, with the gain each dendrite brought."""
    if not architectures:
        return []
    extras = sorted({k for a in architectures for k in a.extra_scores})
    rows = [["dendrites", "params", "best valid", "epoch", *extras, "gain", "gain/1k params"]]
    for a in architectures:
        gain = "" if a.gain is None else fmt_number(a.gain)
        if a.gain is not None and a.relative_gain is not None:
            gain += f" ({a.relative_gain:+.1%})"
        rows.append([str(a.dendrites), fmt_number(a.param_count), fmt_number(a.best_validation),
                     fmt_number(a.best_epoch), *[fmt_number(a.extra_scores.get(k)) for k in extras], gain,
                     fmt_number(a.gain_per_1k_params)])
    return text_table(rows)


def _failed_round_lines(rounds: list[FailedRound]) -> list[str]:
    return [
        f"  failed round: {r.dendrites_tried} dendrite(s) from epoch {r.start_epoch} for {r.epochs} "
        f"epochs, best {fmt_number(r.best_score)} vs {fmt_number(r.score_to_beat)} to beat ({r.snapshot})"
        for r in rounds
    ]


def fmt_number(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


def text_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]


class ComparedRun(BaseModel):
    label: str
    folder: str
    direction: str
    status: str
    dendrites: int
    params_baseline: int | None = None
    params_best: int | None = None
    baseline_score: float | None = None
    best_score: float | None = None
    epochs: int
    epochs_to_best: int | None = None
    delta_vs_first: float | None = Field(
        None, description="best_score gain over the first run (positive = better)"
    )
    relative_delta_vs_first: float | None = None
    noise: float | None = Field(None, description="typical epoch-to-epoch change near the end of training")
    wall_time_s: float | None = None


class Comparison(BaseModel):
    runs: list[ComparedRun]
    verdict: str
    warnings: list[str] = Field(default_factory=list)
    plot_path: str | None = None
    reports: list[RunReport] = Field(default_factory=list, exclude=True)

    def to_text(self) -> str:
        rows = [
            [
                "run",
                "dendrites",
                "params",
                "best score",
                "vs first",
                "epochs",
                "epochs to best",
                "wall s",
                "status",
            ]
        ]
        for r in self.runs:
            delta = (
                ""
                if r.delta_vs_first is None
                else fmt_number(r.delta_vs_first)
                + (f" ({r.relative_delta_vs_first:+.1%})" if r.relative_delta_vs_first is not None else "")
            )
            rows.append(
                [
                    r.label,
                    str(r.dendrites),
                    fmt_number(r.params_best),
                    fmt_number(r.best_score),
                    delta,
                    str(r.epochs),
                    fmt_number(r.epochs_to_best),
                    fmt_number(r.wall_time_s),
                    r.status,
                ]
            )
        lines = text_table(rows)
        lines += ["", self.verdict]
        lines += [f"warning: {w}" for w in self.warnings]
        if self.plot_path:
            lines += ["", f"Plot: {self.plot_path}"]
        return "\n".join(lines)
