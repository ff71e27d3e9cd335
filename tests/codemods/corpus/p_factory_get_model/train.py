"""Graph classification on generated graphs; the network comes from models.get_model(args)."""
import argparse

import torch
import torch.nn.functional as F

from models import get_model


def make_graphs(n, nodes, in_dim, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    p = 0.15 + 0.35 * labels.float()
    adj = (torch.rand(n, nodes, nodes, generator=g) < p.view(-1, 1, 1)).float()
    adj = ((adj + adj.transpose(1, 2)) > 0).float()
    x = torch.randn(n, nodes, in_dim, generator=g) * 0.1 + adj.sum(-1, keepdim=True) / nodes
    return x, adj, labels


def train(model, data, optimizer, batch_size=32):
    model.train()
    x, adj, y = data
    for i in range(0, len(y), batch_size):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[i:i + batch_size], adj[i:i + batch_size]), y[i:i + batch_size])
        loss.backward()
        optimizer.step()


@torch.no_grad()
def test(model, data):
    model.eval()
    x, adj, y = data
    return (model(x, adj).argmax(-1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="gcn")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=16)
    args = parser.parse_args()
    args.in_dim, args.num_classes = 4, 2
    torch.manual_seed(0)
    train_data = make_graphs(192, 12, args.in_dim, 0)
    val_data = make_graphs(64, 12, args.in_dim, 1)
    model = get_model(args)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for epoch in range(1, args.epochs + 1):
        train(model, train_data, optimizer)
        val_acc = test(model, val_data)
        print(f"Epoch: {epoch:03d}, Val: {val_acc:.4f}")


if __name__ == "__main__":
    main()
