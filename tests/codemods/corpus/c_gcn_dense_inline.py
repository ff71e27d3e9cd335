"""Node classification with a two-layer GCN written in plain torch (normalised dense adjacency, the Kipf &
Welling / pygcn shape): one full-graph step per epoch, train/val masks, validation accuracy computed inline."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x, adj):
        return adj @ self.linear(x)


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        return F.log_softmax(self.gc2(x, adj), dim=1)


def load_graph(n=300, classes=4, feats=16, seed=0):
    """A planted-partition graph whose node features are noisy class indicators."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=g)
    same = labels[:, None] == labels[None, :]
    p = torch.where(same, torch.tensor(0.08), torch.tensor(0.01))
    adj = (torch.rand(n, n, generator=g) < p).float()
    adj = ((adj + adj.t()) > 0).float() + torch.eye(n)
    deg = adj.sum(1)
    adj = adj / deg.sqrt()[:, None] / deg.sqrt()[None, :]
    features = F.one_hot(labels, feats).float() + 0.8 * torch.randn(n, feats, generator=g)
    idx = torch.randperm(n, generator=g)
    return adj, features, labels, idx[:150], idx[150:225], idx[225:]


def accuracy(output, labels):
    return (output.argmax(1) == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--weight_decay", type=float, default=5e-4)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--dropout", type=float, default=0.5)
    args = parser.parse_args()
    torch.manual_seed(42)
    adj, features, labels, idx_train, idx_val, idx_test = load_graph()

    model = GCN(nfeat=features.shape[1], nhid=args.hidden, nclass=int(labels.max()) + 1, dropout=args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    t_total = time.time()
    for epoch in range(args.epochs):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()

        model.eval()
        with torch.no_grad():
            output = model(features, adj)
        acc_val = accuracy(output[idx_val], labels[idx_val])
        print(f"Epoch: {epoch + 1:04d} loss_train: {loss_train.item():.4f} acc_val: {acc_val:.4f}")
    print(f"Total time elapsed: {time.time() - t_total:.2f}s")
    model.eval()
    output = model(features, adj)
    print(f"Test accuracy: {accuracy(output[idx_test], labels[idx_test]):.4f}")


if __name__ == "__main__":
    main()
