"""`while epoch < max_epochs` loop, validate() returns (loss, acc), model selection on val_acc."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 5, padding=2)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).mean(dim=2))


def signals(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    t = torch.linspace(0, 6.28, 32)
    x = torch.randn(n, 2, 32, generator=g) * 0.3
    x[:, 0] += torch.sin(t * (y.view(-1, 1) + 1))
    return TensorDataset(x, y)


def train_one_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


@torch.no_grad()
def validate(model, loader):
    model.eval()
    loss, correct, n = 0.0, 0, 0
    for x, y in loader:
        out = model(x)
        loss += F.cross_entropy(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return loss / n, correct / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = ConvNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    train_loader = DataLoader(signals(300, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(signals(90, 1), batch_size=64)
    best_val_acc = 0.0
    epoch = 0
    while epoch < args.max_epochs:
        train_one_epoch(model, train_loader, optimizer)
        val_loss, val_acc = validate(model, val_loader)
        print(f"epoch {epoch} val_loss {val_loss:.6f} val_acc {val_acc:.6f}")
        if val_acc > best_val_acc:
            best_val_acc = val_acc
            torch.save(model.state_dict(), "best.pt")
        epoch += 1


if __name__ == "__main__":
    main()
