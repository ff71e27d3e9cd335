"""Epoch loop over tqdm(range(...)); validate() returns a macro F1 from scikit-learn."""
import argparse

import torch
import torch.nn as nn
from sklearn.metrics import f1_score
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 4))

    def forward(self, x):
        return self.layers(x)


def make_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 16, generator=g)
    y = (x[:, :4].argmax(1) + (x[:, 4] > 1.5).long()) % 4
    return TensorDataset(x, y)


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


def validate(model, loader):
    model.eval()
    preds, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            preds.append(model(x).argmax(1))
            labels.append(y)
    val_f1 = f1_score(torch.cat(labels).numpy(), torch.cat(preds).numpy(), average="macro")
    return val_f1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    train_loader = DataLoader(make_split(400, 0), batch_size=32, shuffle=True)
    dev_loader = DataLoader(make_split(120, 1), batch_size=64)
    for epoch in tqdm(range(args.epochs), desc="epochs"):
        train_epoch(model, train_loader, optimizer, criterion)
        val_f1 = validate(model, dev_loader)
        tqdm.write(f"epoch {epoch} val_f1 {val_f1:.6f}")


if __name__ == "__main__":
    main()
