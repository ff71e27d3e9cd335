#!/usr/bin/env python
"""Regression on generated tabular data.

Research-script shape: a docstring, `from __future__` imports, the first import block, some set-up code,
then a late import of a helper that is only needed further down.
"""
from __future__ import annotations

import argparse
import os

import torch
import torch.nn as nn

torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
DEVICE = torch.device("cpu")

import numpy as np  # noqa: E402  (late import, after set-up code)


class Regressor(nn.Module):
    def __init__(self, d_in: int, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def make_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.1 * rng.normal(size=n)).astype("float32")
    return torch.from_numpy(x), torch.from_numpy(y)


def validation_mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(x), y).item()
    return mse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    x_train, y_train = make_data(512, 0)
    x_val, y_val = make_data(128, 1)
    model = Regressor(6).to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train))
        for i in range(0, len(x_train), 64):
            idx = perm[i:i + 64]
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x_train[idx]), y_train[idx]).backward()
            optimizer.step()
        mse = validation_mse(model, x_val, y_val)
        print(f"epoch {epoch} val mse {mse:.4f}")


if __name__ == "__main__":
    main()
