"""How often the analysis states a script's facts as a person labelled them: the fidelity table.

A labelled corpus is a folder of training scripts (`<slug>.py`, or `<slug>/train.py` for a project)
each with `<slug>.expect.json` whose "facts" say what a reader of the script finds: the architecture,
the model variable, the epoch loop, the validation step, its metric, direction and split. The
test suite and the fidelity benchmark both score the analysis against those labels with
`field_accuracy`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from codemods.analysis.analyzer import analyze_script
from codemods.analysis.report import ScriptReport

__all__ = ["FIELDS", "FieldAccuracy", "corpus_entries", "field_accuracy", "report_facts"]

FIELDS = (
    "architecture",
    "model_var",
    "loop_kind",
    "loop_line",
    "validation_function",
    "validation_line",
    "metric",
    "direction",
    "split",
)


def report_facts(report: ScriptReport) -> dict[str, object]:
    """The analysis' value for each labelled field."""
    loop, validation = report.epoch_loop, report.validation
    return {
        "architecture": report.model.architecture,
        "model_var": report.model.variable,  # the model that is perforated (None when it is a question)
        "loop_kind": loop.kind,
        "loop_line": loop.line,
        "validation_function": validation.function,
        "validation_line": validation.line,
        "metric": validation.metric,
        "direction": validation.direction,
        "split": validation.split,
    }


def corpus_entries(folder: Path) -> list[tuple[str, Path, dict]]:
    """(slug, entry script, labels) for every labelled script in the folder, by slug."""
    out = []
    for expect in sorted(Path(folder).glob("*.expect.json")):
        slug = expect.name.removesuffix(".expect.json")
        entry = expect.with_name(slug) / "train.py" if expect.with_name(slug).is_dir() else expect.with_name(f"{slug}.py")
        out.append((slug, entry, json.loads(expect.read_text())))
    return out


@dataclass
class FieldAccuracy:
    """Right / labelled counts per field, and every miss as (slug, field, labelled, reported)."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    misses: list[tuple[str, str, object, object]] = field(default_factory=list)
    scripts: int = 0

    def share(self, name: str | None = None) -> float:
        """The share right for one field, or over all labelled fields (1.0 when nothing is labelled)."""
        right = self.right[name] if name else sum(self.right.values())
        total = self.total[name] if name else sum(self.total.values())
        return right / total if total else 1.0

    def table(self) -> str:
        lines = [f"{'field':22s} {'right':>6s} {'labelled':>9s} {'accuracy':>9s}"]
        for name in FIELDS:
            lines.append(f"{name:22s} {self.right[name]:6d} {self.total[name]:9d} {self.share(name):9.1%}")
        lines.append(
            f"{'overall':22s} {sum(self.right.values()):6d} {sum(self.total.values()):9d} {self.share():9.1%}"
        )
        return "\n".join(lines)


def field_accuracy(folder: Path) -> FieldAccuracy:
    """Score the analysis of every labelled script in `folder` against its labels."""
    score = FieldAccuracy()
    for slug, entry, expect in corpus_entries(folder):
        labels = expect.get("facts") or {}
        reported = report_facts(analyze_script(entry))
        score.scripts += 1
        for name in FIELDS:
            if name not in labels:
                continue
            score.total[name] += 1
            if reported[name] == labels[name]:
                score.right[name] += 1
            else:
                score.misses.append((slug, name, labels[name], reported[name]))
    return score
