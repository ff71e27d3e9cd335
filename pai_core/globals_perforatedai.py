"""Drop-in for `perforatedai.globals_perforatedai` (GPA): the defaults `pc`, the tracker facade, PAISequential."""
from __future__ import annotations

from typing import Any

from pai_core.blocks import PAISequential
from pai_core.config import PAIConfig, pc

__all__ = ["PAIConfig", "PAISequential", "pai_scaler", "pai_tracker", "pc"]  # noqa: F822 (pai_tracker is lazy)

pai_scaler = None  # upstream placeholder


def __getattr__(name: str) -> Any:
    if name == "pai_tracker":  # the most recently attached tracker, looked up at use time
        from pai_core.tracker import pai_tracker

        return pai_tracker
    raise AttributeError(f"module 'globals_perforatedai' has no attribute {name!r}")
