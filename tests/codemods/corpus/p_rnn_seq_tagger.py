"""GRU sequence tagger: a label for every time step, so the output layer sees the full sequence."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self, vocab=30, emb=16, hidden=24, tags=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, tags)

    def forward(self, tokens):
        states, _ = self.gru(self.embedding(tokens))
        return self.out(torch.tanh(self.proj(states)))


def corpus(n, seed, length=12):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, 30, (n, length), generator=g)
    return tokens, tokens % 4


def validate(model, tokens, tags):
    model.eval()
    with torch.no_grad():
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, 4), tags.reshape(-1)).item()
    return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_tokens, train_tags = corpus(256, 0)
    val_tokens, val_tags = corpus(64, 1)
    model = Tagger()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=3e-3)
    for epoch in range(args.epochs):
        model.train()
        for i in range(0, 256, 32):
            logits = model(train_tokens[i:i + 32])
            loss = F.cross_entropy(logits.reshape(-1, 4), train_tags[i:i + 32].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_loss = validate(model, val_tokens, val_tags)
        print(f"epoch {epoch}: val_loss={val_loss:.4f}")


if __name__ == "__main__":
    main()
