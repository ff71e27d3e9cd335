"""Tabular regression split with train_test_split; evaluate() returns the R^2 of the validation split."""
import argparse

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split


class MLPRegressor(nn.Module):
    def __init__(self, n_in, hidden=(32, 16)):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(n_in, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]),
                                   nn.ReLU(), nn.Linear(hidden[1], 1))

    def forward(self, x):
        return self.model(x).squeeze(-1)


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        pred = model(X).numpy()
    return r2_score(y.numpy(), pred)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    X = rng.randn(500, 6).astype("float32")
    y = (X[:, 0] * 3 + np.sin(X[:, 1] * 2) + rng.randn(500) * 0.1).astype("float32")
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=0)
    X_train, y_train = torch.from_numpy(X_train), torch.from_numpy(y_train)
    X_val, y_val = torch.from_numpy(X_val), torch.from_numpy(y_val)
    torch.manual_seed(0)
    model = MLPRegressor(6)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(X_train))
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i : i + args.batch_size]
            optimizer.zero_grad()
            loss_fn(model(X_train[idx]), y_train[idx]).backward()
            optimizer.step()
        val_r2 = evaluate(model, X_val, y_val)
        print(f"epoch {epoch} val_r2 {val_r2:.6f}")


if __name__ == "__main__":
    main()
