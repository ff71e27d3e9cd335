"""Drop-in for the 2024 `perforatedai.pb_globals` (PBG): `PBG.nEpochsToSwitch = 10` sets GPA.pc's option."""
import sys

from pai_core.legacy import LegacyGlobals, pbTracker  # noqa: F401

sys.modules[__name__].__class__ = LegacyGlobals
