"""Deep mutual learning (two peer networks, each with its own optimizer, each trained on the labels plus the
other's soft predictions); both peers are validated every epoch, so which one to perforate is a question."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def peer(width):
    return nn.Sequential(nn.Linear(10, width), nn.ReLU(), nn.Linear(width, 3))


def accuracy(model, loader):
    model.eval()
    with torch.no_grad():
        hits = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    return hits / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(384, 10, generator=g)
    y = x[:, :3].argmax(1)
    train_loader = DataLoader(TensorDataset(x[:288], y[:288]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[288:], y[288:]), batch_size=96)
    net_a, net_b = peer(32), peer(16)
    opt_a = torch.optim.SGD(net_a.parameters(), lr=0.1, momentum=0.9)
    opt_b = torch.optim.SGD(net_b.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(args.epochs):
        net_a.train()
        net_b.train()
        for xb, yb in train_loader:
            logits_a, logits_b = net_a(xb), net_b(xb)
            kl_a = F.kl_div(F.log_softmax(logits_a, 1), F.softmax(logits_b.detach(), 1), reduction="batchmean")
            kl_b = F.kl_div(F.log_softmax(logits_b, 1), F.softmax(logits_a.detach(), 1), reduction="batchmean")
            loss_a = F.cross_entropy(logits_a, yb) + kl_a
            loss_b = F.cross_entropy(logits_b, yb) + kl_b
            opt_a.zero_grad()
            loss_a.backward()
            opt_a.step()
            opt_b.zero_grad()
            loss_b.backward()
            opt_b.step()
        acc_a, acc_b = accuracy(net_a, val_loader), accuracy(net_b, val_loader)
        print(f"epoch {epoch} peer A {acc_a:.3f} peer B {acc_b:.3f}")


if __name__ == "__main__":
    main()
