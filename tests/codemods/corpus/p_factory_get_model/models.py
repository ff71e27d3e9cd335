"""Graph networks on dense adjacency matrices, picked by name (the project's model registry)."""
import torch
import torch.nn as nn


class GraphConv(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, x, adj):
        deg = adj.sum(-1, keepdim=True).clamp(min=1)
        return self.linear(adj @ x / deg)


class GCN(nn.Module):
    def __init__(self, in_dim, hidden, num_classes):
        super().__init__()
        self.conv1 = GraphConv(in_dim, hidden)
        self.conv2 = GraphConv(hidden, hidden)
        self.readout = nn.Linear(hidden, num_classes)

    def forward(self, x, adj):
        h = torch.relu(self.conv1(x, adj))
        h = torch.relu(self.conv2(h, adj))
        return self.readout(h.mean(dim=1))


class MeanPoolBaseline(nn.Module):
    def __init__(self, in_dim, hidden, num_classes):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x, adj):
        return self.mlp(x.mean(dim=1))


def get_model(args):
    if args.model == "gcn":
        return GCN(args.in_dim, args.hidden, args.num_classes)
    return MeanPoolBaseline(args.in_dim, args.hidden, args.num_classes)
