"""Shared pieces of the framework-callback tests (no tests here): the real digits data as a torch Dataset of
dicts, a small MLP, and a probe that proves the optimizer trains the dendrites a restructure added."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pai_core.datasets import load_digits_splits

torch.set_num_threads(1)
DATA = load_digits_splits()


class DigitsSet(torch.utils.data.Dataset):
    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"pixels": self.x[i], "labels": self.y[i]}


class DigitsNet(nn.Module):
    """Returns {"logits", "loss"} like a transformers model, so the HF Trainer can train it as it is."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc1 = nn.Linear(64, width)
        self.fc2 = nn.Linear(width, 10)

    def forward(self, pixels, labels=None):
        logits = self.fc2(F.relu(self.fc1(pixels)))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits, labels)
        return out


def dendrite_params(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of every parameter that exists only because dendrites were added."""
    return {name: p.detach().clone() for name, p in model.named_parameters()
            if "dendrite" in name and p.numel()}


class DendriteProbe:
    """Snapshot the dendrite parameters when an epoch starts, list those unchanged when it ends."""

    def __init__(self) -> None:
        self.before: dict[str, torch.Tensor] = {}
        self.checked_epochs = 0
        self.unchanged: list[str] = []

    def epoch_begins(self, model: nn.Module) -> None:
        self.before = dendrite_params(model)

    def epoch_ends(self, model: nn.Module) -> None:
        if not self.before:
            return
        now = dict(model.named_parameters())
        self.checked_epochs += 1
        self.unchanged += [name for name, old in self.before.items()
                           if name in now and torch.equal(now[name].detach(), old)]
