"""Dendrites for training loops you do not write yourself: callbacks for the HuggingFace `Trainer` and for
Lightning's `Trainer`.

Nothing heavy is imported here: `transformers` and `lightning` are optional (`pip install pai[frameworks]`), so
import the callback from its own module::

    from pai_core.integrations.huggingface import PAITrainerCallback
    from pai_core.integrations.lightning import PAILightningCallback
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PAITrainerCallback": "pai_core.integrations.huggingface",
    "PAILightningCallback": "pai_core.integrations.lightning",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pai_core.integrations' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
