"""House-price style regression: MSE loss, ReduceLROnPlateau stepped on the validation loss, the best
checkpoint kept, and an evaluate() that returns (loss, mae)."""
import argparse
import os

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def make_dataset(n=640, features=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=g)
    w = torch.randn(features, 1, generator=g)
    y = x @ w + 0.3 * torch.sin(3 * x[:, :1]) + 0.1 * torch.randn(n, 1, generator=g)
    return TensorDataset(x, y)


class Regressor(nn.Module):
    def __init__(self, features=8, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.body(x))


def train_epoch(model, loader, criterion, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
    return total / len(loader.dataset)


def evaluate(model, loader, criterion):
    model.eval()
    loss_sum, mae_sum = 0.0, 0.0
    with torch.no_grad():
        for x, y in loader:
            pred = model(x)
            loss_sum += criterion(pred, y).item() * len(x)
            mae_sum += (pred - y).abs().sum().item()
    n = len(loader.dataset)
    return loss_sum / n, mae_sum / n


def main():
    parser = argparse.ArgumentParser(description="tabular regression")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--out", default="checkpoints")
    args = parser.parse_args()
    torch.manual_seed(0)
    full = make_dataset()
    train_set, val_set = random_split(full, [512, 128], generator=torch.Generator().manual_seed(1))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=128)

    model = Regressor()
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)
    os.makedirs(args.out, exist_ok=True)
    best = float("inf")
    for epoch in range(args.epochs):
        train_loss = train_epoch(model, train_loader, criterion, optimizer)
        val_loss, val_mae = evaluate(model, val_loader, criterion)
        scheduler.step(val_loss)
        print(f"epoch {epoch:3d} train {train_loss:.4f} val {val_loss:.4f} mae {val_mae:.4f}")
        if val_loss < best:
            best = val_loss
            torch.save(model.state_dict(), os.path.join(args.out, "best.pt"))


if __name__ == "__main__":
    main()
