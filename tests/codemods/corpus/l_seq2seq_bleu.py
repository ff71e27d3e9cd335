"""Toy copy-reverse seq2seq: validate() returns a corpus BLEU computed by hand; higher is better."""
import argparse
import math
from collections import Counter

import torch
import torch.nn as nn

PAD, VOCAB, LEN = 0, 12, 6


class Seq2Seq(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, hidden)
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.decoder = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, VOCAB)

    def forward(self, src, tgt_in):
        _, h = self.encoder(self.embed(src))
        dec, _ = self.decoder(self.embed(tgt_in), h)
        return self.out(dec)


def pairs(n, seed):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(1, VOCAB, (n, LEN), generator=g)
    return src, src.flip(1)


def bleu(hyps, refs, max_n=2):
    logs = []
    for k in range(1, max_n + 1):
        match, total = 0, 0
        for h, r in zip(hyps, refs):
            hc = Counter(tuple(h[i : i + k]) for i in range(len(h) - k + 1))
            rc = Counter(tuple(r[i : i + k]) for i in range(len(r) - k + 1))
            match += sum(min(c, rc[g]) for g, c in hc.items())
            total += max(len(h) - k + 1, 0)
        logs.append(math.log(max(match, 1) / max(total, 1)))
    return math.exp(sum(logs) / max_n) * 100


def validate(model, src, tgt):
    model.eval()
    with torch.no_grad():
        tgt_in = torch.cat([torch.zeros(len(tgt), 1, dtype=torch.long), tgt[:, :-1]], 1)
        pred = model(src, tgt_in).argmax(-1)
    score = bleu(pred.tolist(), tgt.tolist())
    return score


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_src, train_tgt = pairs(400, 0)
    dev_src, dev_tgt = pairs(80, 1)
    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD)
    best_bleu = 0.0
    for epoch in range(args.epochs):
        model.train()
        for i in range(0, len(train_src), 40):
            src, tgt = train_src[i : i + 40], train_tgt[i : i + 40]
            tgt_in = torch.cat([torch.zeros(len(tgt), 1, dtype=torch.long), tgt[:, :-1]], 1)
            optimizer.zero_grad()
            loss = criterion(model(src, tgt_in).reshape(-1, VOCAB), tgt.reshape(-1))
            loss.backward()
            optimizer.step()
        dev_bleu = validate(model, dev_src, dev_tgt)
        print(f"epoch {epoch} dev_bleu {dev_bleu:.6f}")
        if dev_bleu > best_bleu:
            best_bleu = dev_bleu
            torch.save(model.state_dict(), "seq2seq.pt")


if __name__ == "__main__":
    main()
