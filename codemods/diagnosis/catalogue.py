"""The catalogue of known failures: the patterns of every category module in `codemods.diagnosis.patterns`.

Its order (the categories as listed here, then each module's own) only breaks ties between findings of equal
confidence found at the same place in the paste (the same exception, or the log text around it).
"""

from __future__ import annotations

from types import ModuleType

from codemods.diagnosis.models import Pattern
from codemods.diagnosis.patterns import (
    api,
    conversion,
    device,
    distributed,
    environment,
    memory,
    optimizer,
    processors,
    saving,
    shapes,
    success,
    tracker,
)

_MODULES = (shapes, processors, conversion, api, optimizer, device, distributed, tracker, success, memory, saving,
            environment)
CATEGORIES: dict[str, ModuleType] = {module.__name__.rpartition(".")[2]: module for module in _MODULES}

PATTERNS: list[Pattern] = [pattern for module in CATEGORIES.values() for pattern in module.PATTERNS]


def load_catalogue() -> list[Pattern]:
    """The catalogue (a copy, so callers can filter or sort it freely)."""
    return [p.model_copy(deep=True) for p in PATTERNS]
