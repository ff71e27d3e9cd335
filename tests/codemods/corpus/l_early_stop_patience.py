"""Early stopping by hand: patience counter on val_loss with a break."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Forecaster(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def series(n, seed):
    g = torch.Generator().manual_seed(seed)
    phase = torch.rand(n, 1, generator=g) * 6.28
    t = torch.arange(21).float() * 0.3
    wave = torch.sin(t + phase) + 0.05 * torch.randn(n, 21, generator=g)
    return TensorDataset(wave[:, :20].unsqueeze(-1), wave[:, 20:])


def run_epoch(model, loader, criterion, optimizer=None):
    training = optimizer is not None
    model.train(training)
    total = 0.0
    with torch.set_grad_enabled(training):
        for x, y in loader:
            loss = criterion(model(x), y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item() * len(x)
    return total / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--patience", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Forecaster()
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_loader = DataLoader(series(256, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(series(64, 1), batch_size=64)
    best_val_loss = float("inf")
    epochs_no_improve = 0
    for epoch in range(args.epochs):
        train_loss = run_epoch(model, train_loader, criterion, optimizer)
        val_loss = run_epoch(model, val_loader, criterion)
        print(f"epoch {epoch} train_loss {train_loss:.6f} val_loss {val_loss:.6f}")
        if val_loss < best_val_loss:
            best_val_loss = val_loss
            epochs_no_improve = 0
        else:
            epochs_no_improve += 1
            if epochs_no_improve >= args.patience:
                print("early stopping")
                break


if __name__ == "__main__":
    main()
