"""Activity recognition from accelerometer windows; the model lives in the project's src/models package."""
import argparse
import logging

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from src.models import Encoder

logger = logging.getLogger("har")


def windows(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 4, (n,), generator=g)
    t = torch.linspace(0, 1, 48)
    freq = (labels.float() + 1).view(-1, 1, 1) * 4
    x = torch.sin(6.28 * freq * t) + 0.4 * torch.randn(n, 3, 48, generator=g)
    return TensorDataset(x, labels)


def validate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--width", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    torch.manual_seed(0)
    train_loader = DataLoader(windows(256, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(windows(96, 1), batch_size=96)
    model = Encoder(in_channels=3, width=args.width)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", patience=2)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        val_acc = validate(model, val_loader)
        scheduler.step(val_acc)
        logger.info("epoch %d val_acc %.3f", epoch, val_acc)


if __name__ == "__main__":
    main()
