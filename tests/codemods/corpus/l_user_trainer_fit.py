"""A user Trainer class whose fit() runs the epoch loop and calls self.evaluate() (minGPT-like trainer)."""
import argparse
import logging

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

logger = logging.getLogger(__name__)


class MLP(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    def forward(self, x):
        return self.net(x)


class Trainer:
    def __init__(self, model, train_dataset, val_dataset, config):
        self.model = model
        self.config = config
        self.train_loader = DataLoader(train_dataset, batch_size=config.batch_size, shuffle=True)
        self.val_loader = DataLoader(val_dataset, batch_size=64)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.criterion = nn.CrossEntropyLoss()

    def train_epoch(self):
        self.model.train()
        total = 0.0
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(self.train_loader)

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        losses = []
        for x, y in self.val_loader:
            losses.append(self.criterion(self.model(x), y).item())
        return sum(losses) / len(losses)

    def fit(self):
        best_loss = float("inf")
        for epoch in range(self.config.max_epochs):
            train_loss = self.train_epoch()
            val_loss = self.evaluate()
            print(f"epoch {epoch} train_loss {train_loss:.6f} val_loss {val_loss:.6f}")
            if val_loss < best_loss:
                best_loss = val_loss
                torch.save(self.model.state_dict(), "best.pt")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    config = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(400, 10)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    train_set, val_set = random_split(TensorDataset(x, y), [320, 80])
    model = MLP(10, 32, 3)
    Trainer(model, train_set, val_set, config).fit()


if __name__ == "__main__":
    main()
