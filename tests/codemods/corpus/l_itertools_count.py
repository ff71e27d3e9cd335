"""Polynomial regression: `for batch_idx in itertools.count(1)` with a break on a loss threshold."""
import argparse
from itertools import count

import torch
import torch.nn.functional as F

POLY_DEGREE = 4
W_target = torch.randn(POLY_DEGREE, 1) * 5
b_target = torch.randn(1) * 5


def make_features(x):
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    return x.mm(W_target) + b_target.item()


def get_batch(batch_size=32):
    random = torch.randn(batch_size)
    x = make_features(random)
    return x, f(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=1e-6)
    args = parser.parse_args()
    torch.manual_seed(0)
    fc = torch.nn.Sequential(torch.nn.Linear(W_target.size(0), 1))
    optimizer = torch.optim.SGD(fc.parameters(), lr=0.01)
    x_val, y_val = get_batch(64)
    for batch_idx in count(1):
        batch_x, batch_y = get_batch()
        optimizer.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        optimizer.step()
        with torch.no_grad():
            val_mae = (fc(x_val) - y_val).abs().mean().item()
        print(f"batch {batch_idx} train loss {loss:.6f} val_mae {val_mae:.6f}")
        if loss < args.threshold or batch_idx >= 400:
            break
    print(f"Loss: {loss:.6f} after {batch_idx} batches")


if __name__ == "__main__":
    main()
