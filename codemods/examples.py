"""The examples each rule carries on its class, as Fixit's lint rules do: `VALID` scripts the rule leaves as
they are, `INVALID` scripts it rewrites, with the script it writes (`expected`), or, for a rule that only
reports (PAI008's refusal), with `expected=None`: the script is left as it is and a finding with the rule's code
says why. Each example is the state of a script when the rule's turn comes (earlier rules already ran), written
small in the shape of a real training script. The `pai check` codes carry theirs in `codemods.check_codes`.
`tests/codemods/test_rule_examples.py` runs every one.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CURRENT_API", "MNIST", "MNIST_INTEGRATED", "Invalid", "Valid"]


def _script(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Valid:
    """A script the rule leaves unchanged (run with the rule's `options`)."""

    script: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "script", _script(self.script))


@dataclass(frozen=True)
class Invalid:
    """A script the rule rewrites to `expected` (None: only reports it, with a finding of its code)."""

    script: str
    expected: str | None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "script", _script(self.script))
        if self.expected is not None:
            object.__setattr__(self, "expected", _script(self.expected))


# A pytorch/examples-style MNIST script, and what `pai perforate` makes of it (tests/codemods/test_rule_examples.py
# checks that it still does): the rules share it where their examples need a whole script as it is before or after.
MNIST = _script("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    def evaluate(model, loader):
        correct = 0
        for data, target in loader:
            correct += (model(data).argmax(1) == target).sum().item()
        return correct / len(loader.dataset)


    def main(train_loader, val_loader):
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for epoch in range(10):
            for data, target in train_loader:
                optimizer.zero_grad()
                F.cross_entropy(model(data), target).backward()
                optimizer.step()
            accuracy = evaluate(model, val_loader)
    """)
MNIST_INTEGRATED = _script("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from pai_core import globals_perforatedai as GPA
    from pai_core import utils_perforatedai as UPA


    def evaluate(model, loader):
        correct = 0
        for data, target in loader:
            correct += (model(data).argmax(1) == target).sum().item()
        return correct / len(loader.dataset)


    def main(train_loader, val_loader):
        GPA.pc.set_testing_dendrite_capacity(True)
        GPA.pc.set_module_names_to_perforate(['Linear'])
        GPA.pc.set_output_dimensions([-1, 0, -1, -1])
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
        GPA.pai_tracker.set_optimizer(torch.optim.SGD)
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
        epoch = -1
        while True:
            epoch += 1
            for data, target in train_loader:
                optimizer.zero_grad()
                F.cross_entropy(model(data), target).backward()
                optimizer.step()
            accuracy = evaluate(model, val_loader)
            model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
            if training_complete:
                break
            elif restructured:
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
    """)

# A script of today's API, which no `pai migrate` rule has anything to rewrite in.
CURRENT_API = _script("""
    from perforatedai import globals_perforatedai as GPA
    from perforatedai import utils_perforatedai as UPA

    GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY)
    GPA.pc.set_n_epochs_to_switch(10)
    model = UPA.perforate_model(Net(), save_name="run", maximizing_score=True)
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
    """)
