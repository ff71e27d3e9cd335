"""Sine-wave sequence prediction: `for i in range(opt.steps)` with LBFGS, the step is the epoch."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, x):
        outputs = []
        h = torch.zeros(x.size(0), self.hidden)
        c = torch.zeros(x.size(0), self.hidden)
        for x_t in x.split(1, dim=1):
            h, c = self.lstm1(x_t, (h, c))
            outputs.append(self.linear(h))
        return torch.cat(outputs, dim=1)


def waves(n, length, seed):
    rng = np.random.RandomState(seed)
    x = np.arange(length) + rng.randint(-20, 20, (n, 1))
    return torch.from_numpy(np.sin(x / 4.0).astype("float32"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3, help="steps to run")
    opt = parser.parse_args()
    np.random.seed(0)
    torch.manual_seed(0)
    data = waves(40, 30, 0)
    val_data = waves(10, 30, 1)
    inp, target = data[:, :-1], data[:, 1:]
    val_input, val_target = val_data[:, :-1], val_data[:, 1:]
    seq = Sequence()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.5, max_iter=4)
    for i in range(opt.steps):
        print("STEP: ", i)

        def closure():
            optimizer.zero_grad()
            out = seq(inp)
            loss = criterion(out, target)
            print("train loss: %.6f" % loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            pred = seq(val_input)
            val_loss = criterion(pred, val_target).item()
            print("val loss: %.6f" % val_loss)
