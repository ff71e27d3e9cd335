"""Text classification with nn.TransformerEncoder (token embedding + positional embedding, mean pooling),
AdamW with a warmup LambdaLR stepped per batch, gradient clipping, evaluate() returns accuracy."""
import argparse
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

VOCAB, SEQ_LEN, CLASSES = 50, 16, 3


class TransformerClassifier(nn.Module):
    def __init__(self, vocab=VOCAB, d_model=32, nhead=4, layers=2, classes=CLASSES):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(1, SEQ_LEN, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.classifier = nn.Linear(d_model, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) * math.sqrt(self.embed.embedding_dim) + self.pos)
        return self.classifier(h.mean(dim=1))


def synthetic_corpus(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (n,), generator=g)
    tokens = torch.randint(3, VOCAB, (n, SEQ_LEN), generator=g)
    tokens[:, 0] = labels  # the class is spelled out by the first token
    return TensorDataset(tokens, labels)


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for tokens, labels in loader:
            correct += (model(tokens).argmax(-1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(synthetic_corpus(384, 0), batch_size=32, shuffle=True)
    valid_loader = DataLoader(synthetic_corpus(128, 1), batch_size=128)

    model = TransformerClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / args.warmup))
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        for tokens, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(tokens), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
        acc = evaluate(model, valid_loader)
        print(f"| epoch {epoch:3d} | loss {loss.item():5.3f} | valid acc {acc:.3f}")


if __name__ == "__main__":
    main()
