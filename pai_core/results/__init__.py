"""Results analysis of finished run folders (`pai analyze-results`, `pai compare`).

Reads the CSV/JSON files written by pai_core or upstream perforatedai with pandas and never imports torch.
Names are resolved lazily so that importing the report models (e.g. for an MCP output schema) stays cheap.
"""

from importlib import import_module

_EXPORTS = {
    "analyze_run": "analyze",
    "compare_runs": "compare",
    "ResultsError": "errors",
    "run_folder_from_script": "locate",
    "save_name_from_script": "locate",
    "ArchitectureScore": "report",
    "ComparedRun": "report",
    "Comparison": "report",
    "FailedRound": "report",
    "RunFinding": "report",
    "Recommendation": "report",
    "RunReport": "report",
    "TrainingSummary": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pai_core.results' has no attribute {name!r}")
    return getattr(import_module(f"pai_core.results.{_EXPORTS[name]}"), name)
