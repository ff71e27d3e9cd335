"""Tabular binary classifier (credit-default style): standardised numpy features, an MLP with BatchNorm,
BCEWithLogitsLoss, validation ROC-AUC from scikit-learn and a hand-written early-stopping counter."""
import argparse
import logging

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
log = logging.getLogger("tabular")


class TabularMLP(nn.Module):
    def __init__(self, n_features, hidden=(64, 32), dropout=0.1):
        super().__init__()
        layers, width = [], n_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(-1)


def load_data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, 12)).astype(np.float32)
    logits = x[:, 0] * 1.5 - x[:, 3] + 0.5 * x[:, 5] * x[:, 7]
    y = (logits + rng.normal(scale=0.5, size=600) > 0).astype(np.float32)
    return train_test_split(x, y, test_size=0.25, random_state=seed)


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    scores, labels = [], []
    for xb, yb in loader:
        scores.append(torch.sigmoid(model(xb)).numpy())
        labels.append(yb.numpy())
    return roc_auc_score(np.concatenate(labels), np.concatenate(scores))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    x_train, x_val, y_train, y_val = load_data(args.seed)
    scaler = StandardScaler().fit(x_train)
    train_ds = TensorDataset(torch.from_numpy(scaler.transform(x_train).astype(np.float32)), torch.from_numpy(y_train))
    val_ds = TensorDataset(torch.from_numpy(scaler.transform(x_val).astype(np.float32)), torch.from_numpy(y_val))
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=256)

    model = TabularMLP(x_train.shape[1])
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)

    best_auc, bad_epochs = 0.0, 0
    for epoch in range(args.epochs):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        val_auc = evaluate(model, val_loader)
        log.info("epoch %d loss %.4f val_auc %.4f", epoch, loss.item(), val_auc)
        if val_auc > best_auc:
            best_auc, bad_epochs = val_auc, 0
            torch.save(model.state_dict(), "best_tabular.pt")
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                log.info("early stopping at epoch %d", epoch)
                break
    log.info("best val auc %.4f", best_auc)


if __name__ == "__main__":
    main()
