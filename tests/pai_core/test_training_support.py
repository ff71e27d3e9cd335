"""Shared helpers for the tracker's end-to-end tests (no tests here): a digits MLP and one training loop."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pai_core.config import PAIConfig
from pai_core.datasets import load_digits_splits

torch.set_num_threads(1)
DATA = load_digits_splits()


class Net(nn.Module):
    def __init__(self, width: int = 6):
        super().__init__()
        self.fc1 = nn.Linear(64, width)
        self.fc2 = nn.Linear(width, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def run_config(**options) -> PAIConfig:
    config = PAIConfig()
    config.configuration_confirmed = True
    config.module_names_to_perforate = ["Linear"]
    config.output_dimensions = [-1, 0]
    config.testing_dendrite_capacity = False
    for name, value in options.items():
        setattr(config, name, value)
    return config


def perforate(save_name: str, config: PAIConfig, *, width: int = 6, seed: int = 1, maximizing: bool = True,
              doing_pai: bool = True, resume: bool = False):
    from pai_core.perforate import perforate_model
    from pai_core.tracker import tracker_for

    torch.manual_seed(seed)
    model = perforate_model(Net(width), doing_pai=doing_pai, save_name=save_name, maximizing_score=maximizing,
                            config=config, resume=resume)
    return model, tracker_for(model)


def train_epoch(model, optimizer):
    model.train()
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(DATA.x_train[i:i + 100]), DATA.y_train[i:i + 100]).backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model, x, y) -> tuple[float, float]:
    """(accuracy in percent, cross-entropy loss)."""
    model.eval()
    out = model(x)
    return (out.argmax(1) == y).float().mean().item() * 100, F.cross_entropy(out, y).item()


def train(model, tracker, *, max_epochs: int, maximizing: bool = True, lr: float = 0.01, scheduler=None,
          sched_args=None, on_epoch=None):
    """The canonical loop; returns (model, epochs_trained, completed, val_scores)."""
    tracker.set_optimizer(torch.optim.Adam)
    tracker.set_scheduler(scheduler)

    def make(m):
        built = tracker.setup_optimizer(m, {"params": m.parameters(), "lr": lr}, sched_args)
        return built[0] if isinstance(built, tuple) else built

    optimizer = make(model)
    scores, done, epoch = [], False, 0
    for epoch in range(1, max_epochs + 1):
        train_epoch(model, optimizer)
        acc, loss = evaluate(model, DATA.x_val, DATA.y_val)
        train_acc, _ = evaluate(model, DATA.x_train, DATA.y_train)
        tracker.add_extra_score(train_acc, "train")
        score = acc if maximizing else loss
        scores.append(score)
        model, restructured, done = tracker.add_validation_score(score, model)
        assert isinstance(restructured, bool) and isinstance(done, bool)
        if on_epoch is not None:
            on_epoch(epoch, model, restructured, done)
        if done:
            break
        if restructured:
            optimizer = make(model)
    return model, epoch, done, scores
