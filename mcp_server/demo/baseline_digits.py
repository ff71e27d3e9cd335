"""Classify 8x8 handwritten digits with a small fully connected network (plain PyTorch, no dendrites).

The data is scikit-learn's bundled digits set (1,797 real scans, no download), split 1,200 / 300 / 297 into
train / validation / test. The hidden layer is deliberately narrow, as for a model that must fit a tiny device:
this is the kind of capacity-limited network that dendrites are meant to help.

    python baseline_digits.py [--epochs 60] [--hidden 8]
"""

import argparse

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class DigitsMLP(nn.Module):
    def __init__(self, hidden=8, num_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def load_data(batch_size):
    images, labels = load_digits(return_X_y=True)
    images = torch.tensor(images, dtype=torch.float32) / 16.0
    labels = torch.tensor(labels, dtype=torch.int64)
    train = TensorDataset(images[:1200], labels[:1200])
    valid = TensorDataset(images[1200:1500], labels[1200:1500])
    test = TensorDataset(images[1500:], labels[1500:])
    return (DataLoader(train, batch_size=batch_size, shuffle=True),
            DataLoader(valid, batch_size=512), DataLoader(test, batch_size=512))


def train_one_epoch(model, loader, optimizer):
    model.train()
    correct = 0
    for images, labels in loader:
        optimizer.zero_grad()
        output = model(images)
        loss = F.cross_entropy(output, labels)
        loss.backward()
        optimizer.step()
        correct += (output.argmax(1) == labels).sum().item()
    return 100.0 * correct / len(loader.dataset)


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return 100.0 * correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser(description="digits MLP")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=8, help="width of the hidden layer")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_loader, valid_loader, test_loader = load_data(args.batch_size)
    model = DigitsMLP(hidden=args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=40, gamma=0.5)

    for epoch in range(args.epochs):
        train_acc = train_one_epoch(model, train_loader, optimizer)
        val_acc = evaluate(model, valid_loader)
        scheduler.step()
        print(f"epoch {epoch}: train {train_acc:.2f}% valid {val_acc:.2f}%")

    test_acc = evaluate(model, test_loader)
    print(f"test accuracy {test_acc:.2f}%")
    torch.save(model.state_dict(), "digits_mlp.pt")


if __name__ == "__main__":
    main()
