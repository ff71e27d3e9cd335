"""FSDP training (torchrun); sharded parameters cannot grow dendrites in place, so pai refuses with a plan."""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP


class Wide(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))

    def forward(self, x):
        return self.net(x)


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    dist.init_process_group("gloo")
    rank = int(os.environ.get("LOCAL_RANK", 0))
    model = FSDP(Wide())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(256, 16), torch.randint(0, 4, (256,))
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        acc = evaluate(model, x, y)
        if rank == 0:
            print(f"epoch {epoch} acc {acc:.3f}")


if __name__ == "__main__":
    main()
