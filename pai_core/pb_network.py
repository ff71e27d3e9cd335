"""Drop-in for the 2024 `perforatedai.pb_network`: the model helpers of pb_models."""
from __future__ import annotations

from typing import Any

from pai_core.legacy import legacy_member


def __getattr__(name: str) -> Any:
    return legacy_member("pb_network", name)
