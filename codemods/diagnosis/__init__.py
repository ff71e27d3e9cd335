"""Diagnose pasted tracebacks and console logs of perforated training runs: cause, fix, lines, confidence."""

from codemods.diagnosis.engine import diagnose
from codemods.diagnosis.models import Diagnosis, DiagnosisFinding, Pattern, ScriptLine

__all__ = ["Diagnosis", "DiagnosisFinding", "Pattern", "ScriptLine", "diagnose"]
