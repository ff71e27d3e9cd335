"""Regression whose evaluate() only logs val_mae with logger.info (nothing returned)."""
import argparse
import logging

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

logging.basicConfig(level=logging.INFO, format="%(message)s")
logger = logging.getLogger("regression")


class Regressor(nn.Module):
    def __init__(self, d_in=8, hidden=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.mlp(x).squeeze(-1)


def housing(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = x[:, 0] * 2 - x[:, 1] + 0.5 * x[:, 2] ** 2 + 0.1 * torch.randn(n, generator=g)
    return TensorDataset(x, y)


def train_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model, loader, epoch):
    model.eval()
    errors = [torch.abs(model(x) - y) for x, y in loader]
    val_mae = torch.cat(errors).mean().item()
    logger.info("epoch %d val_mae %.6f", epoch, val_mae)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Regressor()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    train_loader = DataLoader(housing(400, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(housing(100, 1), batch_size=50)
    for epoch in range(args.epochs):
        train_epoch(model, train_loader, optimizer)
        evaluate(model, val_loader, epoch)


if __name__ == "__main__":
    main()
