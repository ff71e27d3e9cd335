"""Sanity baseline first (a linear probe that is only evaluated), then the real CNN is built into the same name."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LinearProbe(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(100, 5)

    def forward(self, x):
        return self.fc(x.flatten(1))


class PatchCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 5 * 5, 5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def patches(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 5, (n,), generator=g)
    x = torch.randn(n, 1, 10, 10, generator=g) * 0.5
    x[torch.arange(n), 0, 2 * y, 2 * y] += 3.0
    return TensorDataset(x, y)


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return 100.0 * correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(patches(256, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(patches(100, 1), batch_size=100)

    model = LinearProbe()
    print(f"untrained probe: {evaluate(model, val_loader):.1f}%")

    model = PatchCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        top1 = evaluate(model, val_loader)
        print(f"epoch {epoch}: top1 {top1:.1f}%")


if __name__ == "__main__":
    main()
