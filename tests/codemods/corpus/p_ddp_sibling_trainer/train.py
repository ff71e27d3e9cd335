"""Entry point: build the model here, hand it to the project's Trainer (which applies DDP under torchrun)."""
import argparse

import torch
import torch.nn as nn

from trainer import Trainer


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        return self.net(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = torch.randn(256, 10), torch.randint(0, 3, (256,))
    vx, vy = torch.randn(64, 10), torch.randint(0, 3, (64,))
    model = Classifier()
    Trainer(model).fit(x, y, vx, vy, args.epochs)


if __name__ == "__main__":
    main()
