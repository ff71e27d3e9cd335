"""Autoencoder pre-training that never evaluates: the epoch loop only prints the running training loss and
saves a checkpoint every few epochs (common in research repos' pretrain.py)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class AutoEncoder(nn.Module):
    def __init__(self, dim=32, code=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, code))
        self.decoder = nn.Sequential(nn.Linear(code, 16), nn.ReLU(), nn.Linear(16, dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--save-every", type=int, default=5)
    args = parser.parse_args()
    loader = DataLoader(TensorDataset(torch.randn(256, 32)), batch_size=32, shuffle=True)
    model = AutoEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        running = 0.0
        for (x,) in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), x)
            loss.backward()
            optimizer.step()
            running += loss.item()
        print(f"epoch {epoch} train loss {running / len(loader):.4f}")
        if (epoch + 1) % args.save_every == 0:
            torch.save(model.state_dict(), f"ae_{epoch + 1}.pt")


if __name__ == "__main__":
    main()
