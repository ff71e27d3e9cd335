"""A custom validation score whose name and use say nothing about whether higher is better."""
import argparse

import torch
import torch.nn as nn


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.proj(x)


def agreement(a, b):
    return torch.nn.functional.cosine_similarity(a, b).mean().item()


def check(model, x_a, x_b):
    model.eval()
    with torch.no_grad():
        quality = agreement(model(x_a), model(x_b))
    return quality


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    base = torch.randn(200, 8)
    view_a, view_b = base + 0.1 * torch.randn(200, 8), base + 0.1 * torch.randn(200, 8)
    model = Embedder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(args.epochs):
        model.train()
        optimizer.zero_grad()
        pull = (model(view_a) - model(view_b)).pow(2).mean()
        spread = -torch.pdist(model(view_a[:32])).mean()
        (pull + 0.1 * spread).backward()
        optimizer.step()
        quality = check(model, view_a[150:], view_b[150:])
        print(f"epoch {epoch} quality {quality:.4f}")


if __name__ == "__main__":
    main()
