"""Drop-in for `perforatedai.utils_perforatedai` (UPA): perforate, count, copy, save/load."""
from __future__ import annotations

import copy
from typing import Any

from torch import nn

from pai_core.modules import count_params, neuron_modules, prepare_to_load, tracked_modules  # noqa: F401
from pai_core.perforate import convert_network, initialize_pai, perforate_model  # noqa: F401

_CHECKPOINT_FUNCTIONS = ("load_system", "save_system", "load_pretrained_model")


def get_pai_modules(net: nn.Module, depth: int = 0) -> list:
    """Every PAINeuronModule of `net` (depth is accepted for upstream compatibility)."""
    return neuron_modules(net)


def get_tracked_modules(net: nn.Module, depth: int = 0) -> list:
    """Every TrackedNeuronModule of `net`."""
    return tracked_modules(net)


def deep_copy_pai(net: nn.Module) -> nn.Module:
    """A deep copy without gradients or stashed processor tensors (those cannot be deep-copied)."""
    net.zero_grad(set_to_none=True)
    for module in neuron_modules(net):
        module.clear_processors()
    return copy.deepcopy(net)


def save_net(net: nn.Module, folder: str, name: str):
    """Upstream's weights-and-state save: `save_system`."""
    from pai_core.run_checkpoints import save_system

    return save_system(net, folder, name)


pai_save_net = save_pai_net = save_net  # upstream's scaffolding-free saves: pai's checkpoint is already lean


def load_net(net: nn.Module, folder: str, name: str) -> nn.Module:
    """Load <folder>/<name>.pt into `net` (dendrites resized) without advancing the run's epoch."""
    from pai_core.run_checkpoints import load_system

    return load_system(net, folder, name, load_from_manual_save=True)


def prepare_final_model(net: nn.Module) -> nn.Module:
    """A lean inference copy without the dendrite scaffolding (pai_core.deploy.to_inference)."""
    from pai_core.deploy import to_inference

    return to_inference(net)


def __getattr__(name: str) -> Any:
    if name in _CHECKPOINT_FUNCTIONS:  # the tracker engineer's save/load functions, imported on first use
        from pai_core import checkpoint, tracker

        for module in (tracker, checkpoint):
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"module 'utils_perforatedai' has no attribute {name!r}")
