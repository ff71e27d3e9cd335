"""A flat research script: helpers at the top, everything else under `if __name__ == "__main__":` (the model
built there from a --width flag), the loss curve kept in a list and the validation loss computed inline."""
import argparse

import torch
import torch.nn as nn


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 6 - 3
    return x, torch.sin(x) + 0.05 * torch.randn(n, 1, generator=g)


def build_mlp(width):
    return nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--width", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    x_train, y_train = make_data(256, 0)
    x_val, y_val = make_data(64, 1)
    net = build_mlp(args.width)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    history = []
    for epoch in range(args.epochs):
        net.train()
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x_train), y_train)
        loss.backward()
        opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = nn.functional.mse_loss(net(x_val), y_val).item()
        history.append(val_loss)
        if epoch % 20 == 0:
            print(f"epoch {epoch} train {loss.item():.4f} val {val_loss:.4f}")
    print("final val loss", history[-1])
