"""Validation written inline in the epoch loop (model.eval(), no_grad, val_acc = correct / total)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def blobs(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) * 0.7 + torch.stack([y.float(), (y == 1).float()], 1) * 2
    return TensorDataset(x, y)


parser = argparse.ArgumentParser()
parser.add_argument("--num_epochs", type=int, default=3)
args = parser.parse_args()
torch.manual_seed(0)
train_loader = DataLoader(blobs(300, 0), batch_size=30, shuffle=True)
val_loader = DataLoader(blobs(90, 1), batch_size=30)
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

for epoch in range(args.num_epochs):
    model.train()
    running_loss = 0.0
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    train_loss = running_loss / len(train_loader)

    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, labels in val_loader:
            predicted = model(inputs).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    val_acc = correct / total
    print(f"Epoch [{epoch + 1}/{args.num_epochs}] train_loss {train_loss:.6f} val_acc {val_acc:.6f}")
