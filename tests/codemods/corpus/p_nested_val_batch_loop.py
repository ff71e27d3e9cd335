"""Step-based evaluation: the validation runs inside the batch loop every --eval-every steps (a common
fine-tuning shape); the epoch loop only wraps the data passes."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Scorer(nn.Module):
    def __init__(self, d_in=12, hidden=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.score = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.score(self.body(x))


def split(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 12, generator=g)
    y = (x[:, :3].sum(1) > x[:, 3:6].sum(1)).long()
    return TensorDataset(x, y)


def evaluate(model, loader):
    model.eval()
    hits = 0
    with torch.no_grad():
        for x, y in loader:
            hits += (model(x).argmax(-1) == y).sum().item()
    model.train()
    return hits / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--eval-every", type=int, default=4)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(split(512, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(split(128, 1), batch_size=128)
    model = Scorer()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    step = 0
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            step += 1
            if step % args.eval_every == 0:
                val_acc = evaluate(model, val_loader)
                print(f"step {step} (epoch {epoch}) val acc {val_acc:.3f}")
    print("done")


if __name__ == "__main__":
    main()
