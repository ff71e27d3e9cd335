"""A character model trained with plain SGD by hand, or with an optimizer when --use-optimizer is given;
the learning rate is decayed by hand when the validation loss stops improving."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharModel(nn.Module):
    def __init__(self, vocab, hidden, cell):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden, batch_first=True) if cell == "LSTM" else nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.rnn(self.embed(x))
        return self.out(h)


def sequences(n, vocab, length, seed):
    g = torch.Generator().manual_seed(seed)
    start = torch.randint(0, vocab, (n, 1), generator=g)
    return (start + torch.arange(length + 1)) % vocab


parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--lr", type=float, default=0.5)
parser.add_argument("--cell", default="GRU")
parser.add_argument("--use-optimizer", dest="use_optimizer", action="store_true")
args = parser.parse_args()

torch.manual_seed(0)
vocab = 12
train_seqs = sequences(64, vocab, 10, 1)
val_seqs = sequences(32, vocab, 10, 2)
model = CharModel(vocab, 16, args.cell)
lr = args.lr
if args.use_optimizer:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)


def train_epoch():
    model.train()
    for i in range(0, len(train_seqs), 16):
        batch = train_seqs[i:i + 16]
        loss = F.cross_entropy(model(batch[:, :-1]).reshape(-1, vocab), batch[:, 1:].reshape(-1))
        model.zero_grad()
        loss.backward()
        if args.use_optimizer:
            optimizer.step()
        else:
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(val_seqs[:, :-1])
        return F.cross_entropy(logits.reshape(-1, vocab), val_seqs[:, 1:].reshape(-1)).item()


best_val_loss = float("inf")
for epoch in range(args.epochs):
    train_epoch()
    val_loss = evaluate()
    print(f"epoch {epoch} val loss {val_loss:.3f} lr {lr}")
    if val_loss < best_val_loss:
        best_val_loss = val_loss
    else:
        lr /= 2.0
        if args.use_optimizer:
            for g in optimizer.param_groups:
                g["lr"] = lr
