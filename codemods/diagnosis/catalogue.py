"""The catalogue of known failures: the patterns of every category module in `codemods.diagnosis.patterns`.

Categories follow the order a failure tends to appear in a run (shapes at the first forward, saving and the
environment last); within a category, patterns keep their module's order. Ranking ties keep this order.
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

CATEGORIES: dict[str, ModuleType] = {
    "shapes": shapes,
    "processors": processors,
    "conversion": conversion,
    "api": api,
    "optimizer": optimizer,
    "device": device,
    "distributed": distributed,
    "tracker": tracker,
    "success": success,
    "memory": memory,
    "saving": saving,
    "environment": environment,
}

PATTERNS: list[Pattern] = [pattern for module in CATEGORIES.values() for pattern in module.PATTERNS]


def load_catalogue() -> list[Pattern]:
    """The catalogue (a copy, so callers can filter or sort it freely)."""
    return [p.model_copy(deep=True) for p in PATTERNS]
