"""Train the sequence classifier; --dp spreads batches over the visible GPUs with nn.DataParallel."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from model import SeqClassifier


def make_split(n, seed, vocab=50, length=16):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, vocab, (n, length), generator=g)
    labels = (tokens[:, :4] > vocab // 2).sum(dim=1).gt(2).long()
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
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dp", action="store_true", help="use nn.DataParallel")
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(make_split(256, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(make_split(128, 1), batch_size=64)
    model = SeqClassifier(vocab_size=50)
    if args.dp:
        model = nn.DataParallel(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        for tokens, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(tokens), labels)
            loss.backward()
            optimizer.step()
        val_acc = evaluate(model, val_loader)
        print(f"epoch {epoch}: val_acc={val_acc:.3f}")


if __name__ == "__main__":
    main()
