"""Train a small CNN on the scikit-learn 8x8 digits (a plain PyTorch loop, no dendrites yet)."""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset


class DigitsNet(nn.Module):
    def __init__(self, width=16, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(width, width * 2, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(width * 2 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def loaders(batch_size):
    images, labels = load_digits(return_X_y=True)
    images = torch.tensor(images, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    labels = torch.tensor(labels)
    train = TensorDataset(images[:1400], labels[:1400])
    valid = TensorDataset(images[1400:], labels[1400:])
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(valid, batch_size=256)


def train_one_epoch(model, loader, optimizer, device):
    model.train()
    correct = 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        output = model(images)
        loss = F.cross_entropy(output, labels)
        loss.backward()
        optimizer.step()
        correct += (output.argmax(1) == labels).sum().item()
    return 100.0 * correct / len(loader.dataset)


def evaluate(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(1) == labels).sum().item()
    return 100.0 * correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser(description="digits CNN")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=16, help="channels of the first convolution")
    args = parser.parse_args()

    torch.manual_seed(0)
    device = torch.device("cpu")
    train_loader, valid_loader = loaders(args.batch_size)
    model = DigitsNet(width=args.width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)

    for epoch in range(args.epochs):
        train_acc = train_one_epoch(model, train_loader, optimizer, device)
        val_acc = evaluate(model, valid_loader, device)
        scheduler.step()
        print(f"epoch {epoch}: train {train_acc:.2f}% valid {val_acc:.2f}%")


if __name__ == "__main__":
    main()
