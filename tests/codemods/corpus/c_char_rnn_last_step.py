"""Sequence classification with a GRU (names-by-language / sentiment shape): embedding, GRU with
batch_first, the last time step `out[:, -1, :]` into a Linear head, validation accuracy per epoch."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class CharRNN(nn.Module):
    def __init__(self, vocab, embed=16, hidden=32, classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.gru = nn.GRU(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.gru(self.embedding(x))
        return self.fc(out[:, -1, :])


def sequences(n, seed, vocab=20, length=12, classes=4):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    x = torch.randint(0, vocab, (n, length), generator=g)
    x[:, -3:] = y[:, None] + 1  # the label shows near the end of the sequence
    return TensorDataset(x, y)


def validate(model, loader, criterion):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss_sum += criterion(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            total += len(y)
    return correct / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=5e-3)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(sequences(384, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(sequences(128, 1), batch_size=128)
    model = CharRNN(vocab=20)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        val_acc = validate(model, val_loader, criterion)
        print(f"epoch {epoch} loss {loss.item():.3f} val_acc {val_acc:.3f}")


if __name__ == "__main__":
    main()
