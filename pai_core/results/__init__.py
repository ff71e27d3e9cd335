"""Results analysis of finished run folders (`pai analyze-results`, `pai compare`).

Reads the CSV/JSON files written by pai_core or upstream perforatedai with pandas and never imports torch.
"""

from pai_core.results.analyze import analyze_run
from pai_core.results.compare import ComparedRun, Comparison, compare_runs
from pai_core.results.errors import ResultsError
from pai_core.results.locate import run_folder_from_script, save_name_from_script
from pai_core.results.report import (
    ArchitectureScore,
    FailedRound,
    Finding,
    Recommendation,
    RunReport,
    TrainingSummary,
)

__all__ = [
    "ArchitectureScore",
    "ComparedRun",
    "Comparison",
    "FailedRound",
    "Finding",
    "Recommendation",
    "ResultsError",
    "RunReport",
    "TrainingSummary",
    "analyze_run",
    "compare_runs",
    "run_folder_from_script",
    "save_name_from_script",
]
