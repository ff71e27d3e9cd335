"""A word-level language model whose recurrent class is chosen on the command line (LSTM or GRU)."""
import argparse
import math

import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, tokens):
        output, _ = self.rnn(self.encoder(tokens))
        return self.decoder(output)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    return data[: nbatch * bsz].view(bsz, -1).t().contiguous()


def corpus(n, ntoken, seed):
    g = torch.Generator().manual_seed(seed)
    start = torch.randint(0, ntoken, (1,), generator=g)
    return (start + torch.arange(n) * 3 + torch.randint(0, 2, (n,), generator=g)) % ntoken


parser = argparse.ArgumentParser()
parser.add_argument("--model", type=str, default="LSTM", choices=["LSTM", "GRU"])
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--bptt", type=int, default=8)
args = parser.parse_args()

torch.manual_seed(0)
ntokens = 20
train_data = batchify(corpus(800, ntokens, 1), 8)
val_data = batchify(corpus(200, ntokens, 2), 8)
criterion = nn.CrossEntropyLoss()


def train_epoch(model, optimizer):
    model.train()
    for i in range(0, train_data.size(0) - 1, args.bptt):
        seq_len = min(args.bptt, len(train_data) - 1 - i)
        data, targets = train_data[i:i + seq_len], train_data[i + 1:i + 1 + seq_len]
        optimizer.zero_grad()
        loss = criterion(model(data).view(-1, ntokens), targets.reshape(-1))
        loss.backward()
        optimizer.step()


def evaluate(model, source):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, args.bptt):
            seq_len = min(args.bptt, len(source) - 1 - i)
            data, targets = source[i:i + seq_len], source[i + 1:i + 1 + seq_len]
            total += seq_len * criterion(model(data).view(-1, ntokens), targets.reshape(-1)).item()
    return total / (len(source) - 1)


model = RNNModel(args.model, ntokens, 16, 32, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
best_val_loss = None
for epoch in range(1, args.epochs + 1):
    train_epoch(model, optimizer)
    val_loss = evaluate(model, val_data)
    print(f"epoch {epoch} valid loss {val_loss:.3f} ppl {math.exp(val_loss):.2f}")
    if best_val_loss is None or val_loss < best_val_loss:
        best_val_loss = val_loss
