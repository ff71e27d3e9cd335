"""Drop-in for the 2024 `perforatedai.pb_utils` (PBU): conversion, save/load under their camelCase names
(pai_core.upstream_names.LEGACY_MEMBERS)."""
from __future__ import annotations

from typing import Any

from pai_core.legacy import convertNetwork, initializePB, legacy_member  # noqa: F401


def __getattr__(name: str) -> Any:
    return legacy_member("pb_utils", name)
