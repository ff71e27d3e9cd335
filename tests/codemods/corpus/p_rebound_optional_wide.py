"""The default MLP can be replaced by a wider one with --wide (an if without else rebinds the model)."""
import argparse

import torch
import torch.nn as nn


def mlp(d_in, width, d_out):
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, d_out))


def blobs(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])
    return centers[y] + torch.randn(n, 2, generator=g), y


def validate(model, x, y):
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    return acc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--wide", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = blobs(384, 0)
    x_val, y_val = blobs(128, 1)
    model = mlp(2, 16, 3)
    if args.wide:
        model = mlp(2, 64, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        for i in range(0, len(x), 64):
            optimizer.zero_grad()
            loss_fn(model(x[i:i + 64]), y[i:i + 64]).backward()
            optimizer.step()
        acc = validate(model, x_val, y_val)
        print(f"epoch {epoch} acc {acc:.3f}")


if __name__ == "__main__":
    main()
