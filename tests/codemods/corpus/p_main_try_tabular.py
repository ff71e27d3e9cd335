"""Tabular MLP on generated features; main() builds the model inside a try to report bad --hidden values."""
import argparse
import sys

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class TabularNet(nn.Module):
    def __init__(self, n_features, hidden, n_classes):
        super().__init__()
        if hidden <= 0:
            raise ValueError("--hidden must be positive")
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
            nn.Linear(hidden, hidden), nn.ReLU(),
        )
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.out(self.layers(x))


def tabular_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    y = ((x[:, 0] + 0.5 * x[:, 1] - x[:, 2]) > 0).long() + (x[:, 3] > 1).long()
    return TensorDataset(x, y)


def validate(model, loader, criterion):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            total += criterion(model(x), y).item() * len(y)
            count += len(y)
    return total / count


def main():
    parser = argparse.ArgumentParser(description="tabular classifier")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(tabular_split(384, 0), batch_size=64, shuffle=True)
    val_loader = DataLoader(tabular_split(128, 1), batch_size=128)
    try:
        model = TabularNet(10, args.hidden, 3)
    except ValueError as error:
        print(f"bad model settings: {error}")
        sys.exit(2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    best = float("inf")
    for epoch in range(1, args.epochs + 1):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        val_loss = validate(model, val_loader, criterion)
        if val_loss < best:
            best = val_loss
            torch.save(model.state_dict(), "tabular_best.pt")
        print(f"epoch {epoch}: val loss {val_loss:.4f}")


if __name__ == "__main__":
    main()
