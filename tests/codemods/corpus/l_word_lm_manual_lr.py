"""Word language model: val_loss from evaluate(), `if not best_val_loss or val_loss < best_val_loss`, lr /= 4."""
import argparse
import math
import time

import torch
import torch.nn as nn

parser = argparse.ArgumentParser(description="RNN language model")
parser.add_argument("--emsize", type=int, default=16)
parser.add_argument("--nhid", type=int, default=32)
parser.add_argument("--lr", type=float, default=5.0)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--bptt", type=int, default=10)
args = parser.parse_args()
torch.manual_seed(0)
ntokens = 30


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    return data[: nbatch * bsz].view(bsz, -1).t().contiguous()


corpus = torch.randint(0, ntokens, (3000,))
corpus[1::2] = (corpus[::2] + 3) % ntokens
train_data = batchify(corpus[:2400], 10)
val_data = batchify(corpus[2400:2700], 5)
test_data = batchify(corpus[2700:], 5)


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, input):
        output, _ = self.rnn(self.encoder(input))
        return self.decoder(output).view(-1, self.decoder.out_features)


model = RNNModel(ntokens, args.emsize, args.nhid)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)


def get_batch(source, i):
    seq_len = min(args.bptt, len(source) - 1 - i)
    return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].reshape(-1)


def evaluate(data_source):
    model.eval()
    total_loss = 0.0
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, args.bptt):
            data, targets = get_batch(data_source, i)
            total_loss += len(data) * criterion(model(data), targets).item()
    return total_loss / (len(data_source) - 1)


def train():
    model.train()
    for i in range(0, train_data.size(0) - 1, args.bptt):
        data, targets = get_batch(train_data, i)
        optimizer.zero_grad()
        loss = criterion(model(data), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()


lr = args.lr
best_val_loss = None
for epoch in range(1, args.epochs + 1):
    epoch_start_time = time.time()
    train()
    val_loss = evaluate(val_data)
    print(f"| end of epoch {epoch:3d} | time: {time.time() - epoch_start_time:5.2f}s | valid loss {val_loss:.6f} | "
          f"valid ppl {math.exp(val_loss):8.2f}")
    if not best_val_loss or val_loss < best_val_loss:
        with open("model.pt", "wb") as f:
            torch.save(model.state_dict(), f)
        best_val_loss = val_loss
    else:
        lr /= 4.0
        for g in optimizer.param_groups:
            g["lr"] = lr

test_loss = evaluate(test_data)
print(f"| End of training | test loss {test_loss:.6f} | test ppl {math.exp(test_loss):8.2f}")
