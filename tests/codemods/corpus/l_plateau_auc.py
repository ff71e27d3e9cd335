"""evaluate() returns (val_loss, val_auc); ReduceLROnPlateau(mode='max') steps on val_auc, so that is the metric."""
import argparse

import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, TensorDataset


class TabularNet(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def transactions(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 12, generator=g)
    y = ((x[:, 0] * x[:, 1] + x[:, 2]) > 0.5).float()
    return TensorDataset(x, y)


def evaluate(model, loader, criterion):
    model.eval()
    scores, labels, loss = [], [], 0.0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss += criterion(logits, y).item() * len(y)
            scores.append(torch.sigmoid(logits))
            labels.append(y)
    val_auc = roc_auc_score(torch.cat(labels).numpy(), torch.cat(scores).numpy())
    return loss / len(loader.dataset), val_auc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = TabularNet(12)
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)
    train_loader = DataLoader(transactions(400, 0), batch_size=40, shuffle=True)
    val_loader = DataLoader(transactions(120, 1), batch_size=60)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        val_loss, val_auc = evaluate(model, val_loader, criterion)
        scheduler.step(val_auc)
        print(f"epoch {epoch} val_loss {val_loss:.6f} val_auc {val_auc:.6f}")


if __name__ == "__main__":
    main()
