"""pai_core: artificial dendrites for PyTorch.

Exports are loaded lazily (PEP 562) so that light submodules such as `pai_core.results` import without torch.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "perforate_model": "pai_core.perforate",
    "convert_network": "pai_core.perforate",
    "initialize_pai": "pai_core.perforate",
    "PAIConfig": "pai_core.config",
    "pc": "pai_core.config",
    "PAINeuronModule": "pai_core.modules",
    "TrackedNeuronModule": "pai_core.modules",
    "PAIDendriteModule": "pai_core.modules",
    "DendriteValueTracker": "pai_core.modules",
    "neuron_modules": "pai_core.modules",
    "tracked_modules": "pai_core.modules",
    "count_params": "pai_core.modules",
    "prepare_to_load": "pai_core.modules",
    "PAISequential": "pai_core.blocks",
    "ResNetPAI": "pai_core.blocks",
    "ResNetPAIPreFC": "pai_core.blocks",
    "PAIProcessor": "pai_core.processors",
    "MultiOutputProcessor": "pai_core.processors",
    "LSTMProcessor": "pai_core.processors",
    "GRUProcessor": "pai_core.processors",
    "LSTMCellProcessor": "pai_core.processors",
    "LSTMProcessorLastHidden": "pai_core.processors",
    "PAIError": "pai_core.errors",
    "load_for_inference": "pai_core.deploy",
    "to_inference": "pai_core.deploy",
    "export_model": "pai_core.export",
}

__all__ = ["__version__", *_EXPORTS.keys()]  # noqa: PLE0604


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pai_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
