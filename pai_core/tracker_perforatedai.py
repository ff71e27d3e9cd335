"""Drop-in for `perforatedai.tracker_perforatedai` (TPA): the tracker class under its upstream name."""
from __future__ import annotations

from pai_core.tracker import (  # noqa: F401
    CAPACITY_SUCCESS,
    MemberVars,
    Tracker,
    attach_tracker,
    pai_tracker,
    tracker_for,
)

PAINeuronModuleTracker = Tracker
__all__ = ["CAPACITY_SUCCESS", "PAINeuronModuleTracker", "Tracker", "attach_tracker", "pai_tracker", "tracker_for"]
