"""Tabular regression with an MLP: the validation metric is the MSE, which is minimized."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

HIDDEN_SIZE = 64
NUM_LAYERS = 3
DROPOUT = 0.1
EPOCHS = 200
LR = 1e-3

config = {"hidden_size": HIDDEN_SIZE, "num_layers": NUM_LAYERS, "batch_size": 128}


def make_mlp(in_features, hidden, layers, dropout):
    blocks = []
    width = in_features
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    blocks.append(nn.Linear(width, 1))
    return nn.Sequential(*blocks)


def run_epoch(model, loader, optimizer, loss_fn):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb).squeeze(-1), yb)
        loss.backward()
        optimizer.step()


def validate(model, loader):
    model.eval()
    errors = []
    with torch.no_grad():
        for xb, yb in loader:
            errors.append(((model(xb).squeeze(-1) - yb) ** 2).mean().item())
    val_mse = float(np.mean(errors))
    return val_mse


def main():
    x = torch.randn(2000, 8)
    y = x @ torch.randn(8) + 0.1 * torch.randn(2000)
    train_ds = TensorDataset(x[:1600], y[:1600])
    val_ds = TensorDataset(x[1600:], y[1600:])
    train_loader = DataLoader(train_ds, batch_size=config["batch_size"], shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=256)

    model = make_mlp(8, config["hidden_size"], config["num_layers"], DROPOUT)
    optimizer = optim.Adam(model.parameters(), lr=LR)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=5)
    loss_fn = nn.MSELoss()

    best_mse = float("inf")
    for epoch in range(EPOCHS):
        run_epoch(model, train_loader, optimizer, loss_fn)
        mse = validate(model, val_loader)
        scheduler.step(mse)
        if mse < best_mse:
            best_mse = mse
            torch.save(model.state_dict(), "best_regressor.pt")
        print(f"epoch {epoch} val mse {mse:.4f}")


if __name__ == "__main__":
    main()
