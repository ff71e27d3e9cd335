"""Entry point of a project whose training loop lives in its own Trainer class (trainer.py): the script only
builds the model, the optimizer and the loaders and calls trainer.fit()."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from trainer import Trainer


def loaders(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(320, 12, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    return (DataLoader(TensorDataset(x[:256], y[:256]), batch_size=32, shuffle=True),
            DataLoader(TensorDataset(x[256:], y[256:]), batch_size=64))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args()
    train_loader, val_loader = loaders()
    model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), train_loader, val_loader)
    print("best", trainer.fit(args.epochs))


if __name__ == "__main__":
    main()
