"""Siamese network on image pairs (pytorch/examples siamese_network shape): a shared convolutional tower,
BCE on the pair head, Adadelta + StepLR, test() returns the pair accuracy."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset


class SiameseNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.tower = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU())
        self.fc = nn.Sequential(nn.Linear(16 * 2 * 2 * 2, 32), nn.ReLU(), nn.Linear(32, 1))
        self.sigmoid = nn.Sigmoid()

    def forward_once(self, x):
        return torch.flatten(self.tower(x), 1)

    def forward(self, input1, input2):
        output = torch.cat((self.forward_once(input1), self.forward_once(input2)), 1)
        return self.sigmoid(self.fc(output))


class PairDataset(Dataset):
    """Pairs of small images; the label says whether both show the same class."""

    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, 4, (n,), generator=g)
        self.images = torch.randn(n, 1, 10, 10, generator=g) * 0.3
        for i in range(n):
            c = int(self.labels[i])
            self.images[i, 0, c * 2:c * 2 + 3, c * 2:c * 2 + 3] += 2.0
        self.partner = torch.randint(0, n, (n,), generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        j = int(self.partner[i])
        same = float(self.labels[i] == self.labels[j])
        return self.images[i], self.images[j], torch.tensor(same)


def train(args, model, device, loader, optimizer, epoch):
    model.train()
    criterion = nn.BCELoss()
    for batch_idx, (images_1, images_2, targets) in enumerate(loader):
        images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(images_1, images_2).squeeze()
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(images_1)}/{len(loader.dataset)}] Loss: {loss.item():.6f}")


def test(model, device, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images_1, images_2, targets in loader:
            images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
            outputs = model(images_1, images_2).squeeze()
            correct += torch.where(outputs > 0.5, 1, 0).eq(targets.view_as(outputs)).sum().item()
    accuracy = 100.0 * correct / len(loader.dataset)
    print(f"\nTest set: Accuracy: {correct}/{len(loader.dataset)} ({accuracy:.0f}%)\n")
    return accuracy


def main():
    parser = argparse.ArgumentParser(description="Siamese network example")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--log-interval", type=int, default=10)
    args = parser.parse_args()
    device = torch.device("cpu")
    train_loader = DataLoader(PairDataset(256, 0), batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(PairDataset(128, 1), batch_size=128)

    model = SiameseNetwork().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()


if __name__ == "__main__":
    main()
