"""Optimizer and scheduler chosen by name from a YAML config (getattr(torch.optim, cfg['optimizer']['name']))."""
import argparse
from pathlib import Path

import torch
import torch.nn as nn
import yaml
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(10, hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def build_optimizer(params, cfg):
    opt_cfg = dict(cfg["optimizer"])
    name = opt_cfg.pop("name")
    return getattr(torch.optim, name)(params, **opt_cfg)


def build_scheduler(optimizer, cfg):
    sched_cfg = dict(cfg["scheduler"])
    name = sched_cfg.pop("name")
    return getattr(torch.optim.lr_scheduler, name)(optimizer, **sched_cfg)


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(Path(__file__).with_name("config.yaml")))
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    epochs = args.epochs or cfg["train"]["epochs"]
    torch.manual_seed(0)
    x = torch.randn(400, 10)
    y = (x[:, 0] * x[:, 1] > 0).long()
    train_loader = DataLoader(TensorDataset(x[:300], y[:300]), batch_size=cfg["train"]["batch_size"], shuffle=True)
    val_loader = DataLoader(TensorDataset(x[300:], y[300:]), batch_size=50)
    model = Net(cfg["model"]["hidden"])
    optimizer = build_optimizer(model.parameters(), cfg)
    scheduler = build_scheduler(optimizer, cfg)
    best_acc = 0.0
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        scheduler.step()
        val_acc = evaluate(model, val_loader)
        best_acc = max(best_acc, val_acc)
        print(f"epoch {epoch} val_acc {val_acc:.6f}")


if __name__ == "__main__":
    main()
