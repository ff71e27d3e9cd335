"""Static analysis of a training script: what an integration needs to know, without running user code.

`analyze_script(path)` / `analyze_source(text)` return a `ScriptReport` (pydantic); `recommend_config`
gives the perforation settings for an architecture. A script that cannot be read raises `ScriptError`.
"""

from __future__ import annotations

from codemods.analysis.analyzer import analyze_script, analyze_source
from codemods.analysis.config import (
    OutputDimensionOverride,
    PerforationConfig,
    ProcessorSpec,
    recommend_config,
)
from codemods.analysis.errors import ScriptError
from codemods.analysis.report import ScriptReport

__all__ = [
    "OutputDimensionOverride",
    "PerforationConfig",
    "ProcessorSpec",
    "ScriptError",
    "ScriptReport",
    "analyze_script",
    "analyze_source",
    "recommend_config",
]
