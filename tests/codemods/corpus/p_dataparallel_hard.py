"""A 1-D CNN on generated signals, always wrapped in nn.DataParallel (older multi-GPU research code)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class SignalNet(nn.Module):
    def __init__(self, channels=8, classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(channels, channels * 2, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1),
        )
        self.classifier = nn.Linear(channels * 2, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def signals(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    t = torch.linspace(0, 6.28, 64)
    x = torch.sin(t * (y.float() + 1).unsqueeze(1)) + 0.3 * torch.randn(n, 64, generator=g)
    return TensorDataset(x.unsqueeze(1), y)


def run_validation(net, loader, criterion):
    net.eval()
    loss_sum, n = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            loss_sum += criterion(net(x), y).item() * x.size(0)
            n += x.size(0)
    return loss_sum / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_loader = DataLoader(signals(256, 0), batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(signals(96, 1), batch_size=96)
    net = SignalNet()
    net = nn.DataParallel(net).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(args.epochs):
        net.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            criterion(net(x), y).backward()
            optimizer.step()
        val_loss = run_validation(net, val_loader, criterion)
        print(f"epoch {epoch} val_loss {val_loss:.4f}")
    torch.save(net.module.state_dict(), "signal_net.pt")


if __name__ == "__main__":
    main()
