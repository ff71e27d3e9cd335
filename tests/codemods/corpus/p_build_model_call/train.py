"""Tabular regression with a config dict; the registry hands back a constructor: build_model(cfg)()."""
import argparse

import torch
import torch.nn.functional as F

from nets import build_model

CONFIG = {"name": "resmlp", "d_in": 8, "hidden": 32, "d_out": 1, "depth": 2}


def dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :4].sum(1, keepdim=True) * x[:, 4:5]).tanh()
    return x, y


def eval_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        loss = F.mse_loss(model(x), y).item()
    return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = dataset(512, 0)
    vx, vy = dataset(128, 1)
    model = build_model(CONFIG)()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    for epoch in range(args.epochs):
        model.train()
        for i in range(0, 512, 64):
            optimizer.zero_grad()
            F.mse_loss(model(x[i:i + 64]), y[i:i + 64]).backward()
            optimizer.step()
        scheduler.step()
        loss = eval_loss(model, vx, vy)
        print(f"epoch {epoch} val {loss:.4f}")


if __name__ == "__main__":
    main()
