"""Config-driven template: every object comes from a `_target_` string (the hydra instantiate pattern)."""
import argparse
import importlib

import torch

CONFIG = {
    "model": {"_target_": "torch.nn.Linear", "in_features": 4, "out_features": 1},
    "runner": {"_target_": "engine.runner.Runner", "epochs": 2, "lr": 0.05},
}


def instantiate(node, **overrides):
    params = {k: v for k, v in node.items() if k != "_target_"}
    params.update(overrides)
    module_name, _, attr = node["_target_"].rpartition(".")
    return getattr(importlib.import_module(module_name), attr)(**params)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    cfg = CONFIG
    if args.epochs:
        cfg["runner"]["epochs"] = args.epochs
    torch.manual_seed(0)
    model = instantiate(cfg["model"])
    runner = instantiate(cfg["runner"])
    x = torch.randn(64, 4)
    runner.fit(model, x, x.sum(1, keepdim=True))


if __name__ == "__main__":
    main()
