"""Full-graph GCN training on a synthetic graph: two communities, features that hint at them."""
import argparse

import torch
import torch.nn.functional as F
import torch.optim as optim

from gcn.models import GCN


def synthetic_graph(nodes=120, features=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(nodes) % 3
    same = (labels[:, None] == labels[None, :]).float()
    adj = (torch.rand(nodes, nodes, generator=g) < 0.02 + 0.15 * same).float()
    adj = ((adj + adj.t() + torch.eye(nodes)) > 0).float()
    adj = adj / adj.sum(1, keepdim=True)
    x = torch.randn(nodes, features, generator=g) + labels[:, None].float() * 0.5
    return x, adj, labels


def accuracy(output, labels):
    return (output.argmax(1) == labels).float().mean().item()


parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--hidden", type=int, default=16)
args = parser.parse_args()

torch.manual_seed(0)
features, adj, labels = synthetic_graph()
idx_train, idx_val, idx_test = torch.arange(0, 60), torch.arange(60, 90), torch.arange(90, 120)
model = GCN(nfeat=features.shape[1], nhid=args.hidden, nclass=3, dropout=0.5)
optimizer = optim.Adam(model.parameters(), lr=args.lr, weight_decay=5e-4)


def train(epoch):
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()
    return loss_train.item()


def validate():
    model.eval()
    output = model(features, adj)
    acc_val = accuracy(output[idx_val], labels[idx_val])
    return acc_val


for epoch in range(args.epochs):
    loss = train(epoch)
    acc_val = validate()
    print(f"epoch {epoch} loss {loss:.3f} val acc {acc_val:.3f}")

model.eval()
print("test acc", accuracy(model(features, adj)[idx_test], labels[idx_test]))
