"""Validation with a torchmetrics object: update() per batch, compute() at the end, reset()."""
import argparse

import torch
import torch.nn as nn
import torchmetrics
from torch.utils.data import DataLoader, TensorDataset


class AudioNet(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, 8, 9, stride=2), nn.ReLU(), nn.AdaptiveAvgPool1d(4))
        self.head = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.head(self.conv(x).flatten(1))


def clips(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    t = torch.linspace(0, 1, 64)
    x = torch.sin(2 * 3.1416 * (y.view(-1, 1) + 1) * 3 * t) + 0.4 * torch.randn(n, 64, generator=g)
    return TensorDataset(x.unsqueeze(1), y)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


def evaluate(model, loader, metric):
    model.eval()
    metric.reset()
    with torch.no_grad():
        for x, y in loader:
            metric.update(model(x), y)
    val_accuracy = metric.compute().item()
    return val_accuracy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = AudioNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    metric = torchmetrics.Accuracy(task="multiclass", num_classes=4)
    train_loader = DataLoader(clips(320, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(clips(80, 1), batch_size=40)
    for epoch in range(args.epochs):
        train_one_epoch(model, train_loader, optimizer, criterion)
        val_accuracy = evaluate(model, val_loader, metric)
        print(f"epoch {epoch}: val_accuracy={val_accuracy:.6f}")


if __name__ == "__main__":
    main()
