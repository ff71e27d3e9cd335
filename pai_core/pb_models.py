"""Drop-in for the 2024 `perforatedai.pb_models` (PBM): processors and model helpers under their 2024 names
(pai_core.upstream_names.LEGACY_MEMBERS; PAIDataParallel is plain nn.DataParallel: pass `model.module` to the
tracker)."""
from __future__ import annotations

from typing import Any

from pai_core.legacy import legacy_member


def __getattr__(name: str) -> Any:
    return legacy_member("pb_models", name)
