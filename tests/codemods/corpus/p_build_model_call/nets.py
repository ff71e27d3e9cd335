"""Model registry: build_model(cfg) returns the class to instantiate (configured by functools.partial)."""
import functools

import torch.nn as nn


class ResidualMLP(nn.Module):
    def __init__(self, d_in, hidden, d_out, depth=2):
        super().__init__()
        self.inp = nn.Linear(d_in, hidden)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.GELU())
                                     for _ in range(depth)])
        self.out = nn.Linear(hidden, d_out)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


REGISTRY = {"resmlp": ResidualMLP}


def build_model(cfg):
    cls = REGISTRY[cfg["name"]]
    return functools.partial(cls, cfg["d_in"], cfg["hidden"], cfg["d_out"], depth=cfg.get("depth", 2))
