"""Read what a training log says about a run and hold it against what the run folder records.

A run folder that disagrees with the log the user saw is the usual sign that the analysis is looking at the
wrong run: an older folder under the same save_name, a run that wrote somewhere else (another save_name or
working directory), or a killed run whose last rows never reached the CSVs. Only the tracker's own messages
(pai_core's and upstream's) and the common `Epoch N` shapes are read; anything else in the log is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pai_core.results.report import RunFinding, RunReport

_FLAGS = re.IGNORECASE | re.MULTILINE
_SCORE_LINE = re.compile(r"^.*\bAdding validation score\b", _FLAGS)  # upstream prints one per epoch
_EPOCH = re.compile(r"\bepoch\b\s*[:=#\[(]?\s*(\d{1,7})\b(?!\s*(?:dendrite|module))", _FLAGS)
_PAI_CORE_ADDED = re.compile(r"\bAdded dendrite \d+ to\b", _FLAGS)  # "... at epoch E": not an epoch count
_ADDED = re.compile(rf"{_PAI_CORE_ADDED.pattern}|\bImporting best Model for switch to PA\b", _FLAGS)
_CAPACITY = re.compile(r"\bSuccessfully added 3 dendrites\b", _FLAGS)
_COMPLETE = re.compile(r"\btraining[ _]complete\b|\bLast Dendrites were good\b|\bearly stopping with the best",
                       _FLAGS)
_TOLERANCE = 1  # a log line printed before the epoch's add_validation_score, or 0- vs 1-based counting


@dataclass(frozen=True)
class LogFacts:
    epochs: int | None  # epochs the log shows (tracker calls, else the highest `epoch N` + 1 for 0-based counts)
    epochs_source: str
    dendrites_added: int | None  # None: the log never mentions a dendrite being added
    capacity_success: bool
    complete: bool


def read_training_log(text: str) -> LogFacts:
    scores = len(_SCORE_LINE.findall(text))
    numbers = [int(n) for line in text.splitlines() if not _PAI_CORE_ADDED.search(line)
               for n in _EPOCH.findall(line)]
    if scores:
        epochs, source = scores, f"{scores} 'Adding validation score' lines"
    elif numbers:
        epochs, source = max(numbers), f"the highest 'epoch N' in the log is {max(numbers)}"
    else:
        epochs, source = None, "no epoch lines"
    added = _ADDED.findall(text)
    return LogFacts(epochs, source, len(added) if added else None, bool(_CAPACITY.search(text)),
                    bool(_COMPLETE.search(text)))


def compare_with_log(report: RunReport, log: LogFacts) -> list[RunFinding]:
    """Findings where the folder and the log disagree; none when they tell the same story."""
    s = report.summary
    findings: list[RunFinding] = []
    wrong_run = ("The folder may be an older run under the same save_name, or this run wrote elsewhere (another "
                 "save_name or working directory); pass the folder the logged run wrote, or rerun.")
    if log.epochs is not None and log.epochs > s.epochs_trained + _TOLERANCE:
        findings.append(RunFinding(code="PAI581", severity="warning", message=(
            f"The log shows {log.epochs} epochs ({log.epochs_source}) but {s.folder} records {s.epochs_trained}. "
            f"{wrong_run} A run killed mid-way can also lose its last rows (the checkpoint is per epoch; the CSVs "
            "are written at most once a second).")))
    elif log.epochs is not None and log.epochs + _TOLERANCE < s.epochs_trained:
        findings.append(RunFinding(code="PAI582", severity="info", message=(
            f"{s.folder} records {s.epochs_trained} epochs but the log shows {log.epochs} ({log.epochs_source}): "
            "the folder holds a resumed run or several runs under one save_name, or the log is only a part. "
            "Compare with the log of the whole run.")))
    if log.dendrites_added is not None and log.dendrites_added != s.dendrites_added + s.failed_rounds:
        findings.append(RunFinding(code="PAI583", severity="warning", message=(
            f"The log reports {log.dendrites_added} dendrite addition(s); the folder records {s.dendrites_added} "
            f"dendrite(s) in the final model and {s.failed_rounds} failed round(s). {wrong_run}")))
    if log.capacity_success and s.status != "capacity_test":
        findings.append(RunFinding(code="PAI584", severity="warning", message=(
            f"The log shows the capacity test succeeded, but {s.folder} is a {s.status} run. {wrong_run}")))
    elif log.complete and s.status == "ended_early":
        findings.append(RunFinding(code="PAI585", severity="warning", message=(
            f"The log says training completed, but {s.folder} ended before completion. {wrong_run}")))
    return findings
