"""Full-batch GCN: test() returns (train_acc, val_acc, test_acc) from masks; best model on val_acc."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--hidden_channels", type=int, default=16)
args = parser.parse_args()
torch.manual_seed(0)

num_nodes, num_features, num_classes = 200, 12, 3
y = torch.randint(0, num_classes, (num_nodes,))
x = torch.randn(num_nodes, num_features) + F.one_hot(y, num_features).float()
adj = (torch.rand(num_nodes, num_nodes) < 0.03).float()
adj = ((adj + adj.t() + torch.eye(num_nodes)) > 0).float()
adj = adj / adj.sum(1, keepdim=True)
perm = torch.randperm(num_nodes)
train_mask = torch.zeros(num_nodes, dtype=torch.bool)
val_mask = torch.zeros(num_nodes, dtype=torch.bool)
test_mask = torch.zeros(num_nodes, dtype=torch.bool)
train_mask[perm[:60]] = True
val_mask[perm[60:127]] = True
test_mask[perm[127:]] = True


class GCN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_channels):
        super().__init__()
        self.lin1 = nn.Linear(in_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)

    def forward(self, x, adj):
        x = F.relu(adj @ self.lin1(x))
        x = F.dropout(x, p=0.5, training=self.training)
        return adj @ self.lin2(x)


model = GCN(num_features, args.hidden_channels, num_classes)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)


def train():
    model.train()
    optimizer.zero_grad()
    out = model(x, adj)
    loss = F.cross_entropy(out[train_mask], y[train_mask])
    loss.backward()
    optimizer.step()
    return float(loss)


@torch.no_grad()
def test():
    model.eval()
    pred = model(x, adj).argmax(dim=-1)
    accs = []
    for mask in [train_mask, val_mask, test_mask]:
        accs.append(int((pred[mask] == y[mask]).sum()) / int(mask.sum()))
    return accs


best_val_acc = test_acc = 0
for epoch in range(1, args.epochs + 1):
    loss = train()
    train_acc, val_acc, tmp_test_acc = test()
    if val_acc > best_val_acc:
        best_val_acc = val_acc
        test_acc = tmp_test_acc
    print(f"Epoch: {epoch:03d}, Loss: {loss:.4f}, Train: {train_acc:.6f}, Val: {val_acc:.6f}, Test: {tmp_test_acc:.6f}")
