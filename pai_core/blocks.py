"""Building blocks that make good perforation units: PAISequential and ResNet rebuilds.

A dendrite is a copy of the whole unit it extends, so a layer and the norm layer after it are best wrapped
together (PAISequential), and residual networks are best perforated block by block (ResNetPAI puts conv1 and
bn1 into one PAISequential; add "BasicBlock"/"Bottleneck" to module_names_to_perforate for whole blocks).
ResNets are duck-typed: anything with torchvision's attribute names works, torchvision is never imported.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

__all__ = ["PAISequential", "ResNetPAI", "ResNetPAIPreFC"]

_RESNET_PARTS = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc")


class PAISequential(nn.Sequential):
    """Groups modules into one perforation unit; the list lives in the inner Sequential `model`."""

    def __init__(self, layer_array: Iterable[nn.Module]) -> None:
        super().__init__()
        self.model = nn.Sequential(*layer_array)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)


def _resnet_parts(other: nn.Module) -> dict[str, nn.Module]:
    missing = [name for name in _RESNET_PARTS if not hasattr(other, name)]
    if missing:
        raise TypeError(f"ResNetPAI needs a torchvision-style ResNet (attributes {', '.join(_RESNET_PARTS)}); "
                        f"{type(other).__name__} lacks {', '.join(missing)}.")
    return {name: getattr(other, name) for name in _RESNET_PARTS}


class ResNetPAI(nn.Module):
    """A torchvision-style ResNet with conv1+bn1 fused into one PAISequential `b1` (same weights, same output).

    Use through `modules_to_replace=[ResNet]`, `replacement_modules=[ResNetPAI]`.
    """

    def __init__(self, other_resnet: nn.Module) -> None:
        super().__init__()
        parts = _resnet_parts(other_resnet)
        self.b1 = PAISequential([parts["conv1"], parts["bn1"]])
        for name in _RESNET_PARTS[2:]:
            setattr(self, name, parts[name])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.b1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNetPAIPreFC(nn.Module):
    """Like the source ResNet plus a square Linear `pre_fc` + ReLU before `fc` (an extra unit to perforate).

    conv1 and bn1 stay separate, as in upstream.
    """

    def __init__(self, other_resnet: nn.Module) -> None:
        super().__init__()
        parts = _resnet_parts(other_resnet)
        for name in _RESNET_PARTS:
            setattr(self, name, parts[name])
        width = self.fc.in_features
        self.pre_fc = nn.Linear(width, width)
        self.pre_fc_relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.pre_fc_relu(self.pre_fc(x)))
