"""How a fresh dendrite copy is initialised, parameter by parameter.

A dendrite starts as a copy of the module it extends. Its weights are re-drawn ~N(0, multiplier) so the copy
learns something new (upstream's rule). Parameters that are not weights (time constants, thresholds, leak
terms of spiking modules such as Rockpool's LIFTorch) must stay in the range the module needs: a time constant
drawn around 0 is negative or tiny and turns the loss into NaN. Those are kept and perturbed relatively,
p * (1 + multiplier * N(0, 1)), which keeps their sign and scale.

The kind of a parameter (first rule that applies):
1. `dendrite_init_rules` (config): {pattern: "reinit" | "perturb" | "keep"}, patterns matched (fnmatch) against
   "ClassName.param" and "param", e.g. {"LIFTorch.bias": "reinit", "*.tau_*": "keep"};
2. a weight-like name (`weight*`, `*_weight*`, `w_*`, `kernel*`) is "reinit";
3. any parameter of a torch.nn built-in module (Linear, Conv, norms, RNNs, ...) is "reinit", as upstream;
4. anything else (parameters of third-party modules: taus, thresholds, biases) is "perturb".
"""
from __future__ import annotations

import fnmatch
from collections.abc import Mapping

import torch
from torch import nn

KINDS = ("reinit", "perturb", "keep")
_WEIGHT_NAMES = ("weight*", "*_weight*", "w_*", "kernel*")


def parameter_kind(module: nn.Module, name: str, rules: Mapping[str, str] | None = None) -> str:
    """"reinit", "perturb" or "keep" for parameter `name` owned directly by `module` (see the module docstring)."""
    qualified = f"{type(module).__name__}.{name}"
    for pattern, kind in (rules or {}).items():
        if fnmatch.fnmatchcase(qualified, pattern) or fnmatch.fnmatchcase(name, pattern):
            return kind  # values are checked when the option is set (PAIConfig)
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in _WEIGHT_NAMES):
        return "reinit"
    return "reinit" if type(module).__module__.startswith("torch.nn") else "perturb"


@torch.no_grad()
def init_dendrite(copy: nn.Module, multiplier: float, rules: Mapping[str, str] | None = None) -> None:
    """Initialise every parameter of the dendrite copy by its kind (uint8 weights get random bytes)."""
    for module in nn.Module.modules(copy):
        for name, param in nn.Module.named_parameters(module, recurse=False):
            kind = parameter_kind(module, name, rules)
            if kind == "keep":
                continue
            if param.dtype == torch.uint8:
                if kind == "reinit":
                    param.copy_(torch.randint(0, 256, param.shape, dtype=torch.uint8, device=param.device))
            elif param.is_floating_point() or param.is_complex():
                if kind == "reinit":
                    param.normal_(0.0, 1.0).mul_(multiplier)
                else:
                    param.mul_(torch.randn_like(param).mul_(multiplier).add_(1.0))
