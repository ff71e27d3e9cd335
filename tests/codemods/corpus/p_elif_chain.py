"""Three backbones behind --backbone (if / elif / else), each moved to the device in its own branch."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class TinyConv(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.head = nn.Linear(width, 6)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1))


class DeepConv(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(width, 6)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.convs(x), 1).flatten(1))


def colour_patches(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 6, (n,), generator=g)
    x = torch.randn(n, 3, 8, 8, generator=g) * 0.3
    x[torch.arange(n), y % 3] += (y // 3).float().view(-1, 1, 1) + 0.5
    return TensorDataset(x, y)


def evaluate(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x.to(device)).argmax(1).cpu() == y).sum().item()
    return correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="tiny", choices=["tiny", "deep", "linear"])
    parser.add_argument("--width", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    train_loader = DataLoader(colour_patches(288, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(colour_patches(96, 1), batch_size=96)
    if args.backbone == "tiny":
        model = TinyConv(args.width).to(device)
    elif args.backbone == "deep":
        model = DeepConv(args.width).to(device)
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 6)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        val_acc = evaluate(model, val_loader, device)
        print(f"{args.backbone} epoch {epoch}: {val_acc:.3f}")


if __name__ == "__main__":
    main()
