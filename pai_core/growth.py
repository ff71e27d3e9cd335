"""Growing the model: one more dendrite in every perforated module that can take one."""
from __future__ import annotations

import logging

from torch import nn

from pai_core.errors import DendriteError

logger = logging.getLogger("pai_core.growth")


def add_dendrite_everywhere(model: nn.Module, *, skip_unknown: bool) -> int:
    """Add one dendrite to every perforated module of `model`; returns how many grew.

    A module whose output size is still unknown (it never received a gradient) cannot grow: that is an error
    unless `skip_unknown` (the checked_skipped_modules option), which skips it with a warning.
    """
    from pai_core.modules import neuron_modules

    modules = neuron_modules(model)
    unknown = [m for m in modules if getattr(m, "out_channels", 0) is None]
    if unknown:
        names = ", ".join(getattr(m, "name", "?") for m in unknown)
        if not skip_unknown:
            raise DendriteError(
                f"Cannot add dendrites: module(s) {names} never received a gradient, so their output size is "
                "unknown. Make sure every perforated module runs in forward and backward before the first "
                "switch, track such modules instead, or set checked_skipped_modules=True to skip them.")
        logger.warning("Skipping dendrites for module(s) %s: they never received a gradient.", names)
    grew = 0
    for module in modules:
        if module not in unknown:
            module.add_dendrite()
            grew += 1
    if not grew:
        raise DendriteError("No perforated module could take a dendrite; check module_names_to_perforate.")
    return grew


def count_params(model: nn.Module) -> int:
    from pai_core.modules import count_params as count

    return int(count(model))
