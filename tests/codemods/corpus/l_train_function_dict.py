"""The epoch loop lives in train(); evaluate() returns a dict of metrics, selection on metrics['accuracy']."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab=50, dim=16, classes=2):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab, dim)
        self.fc = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.fc(self.embedding(tokens))


def reviews(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    tokens = torch.randint(0, 40, (n, 12), generator=g)
    tokens[:, :3] += (y * 10).view(-1, 1) % 50
    return TensorDataset(tokens, y)


def evaluate(model, loader, criterion):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for tokens, labels in loader:
            logits = model(tokens)
            total_loss += criterion(logits, labels).item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    return {"loss": total_loss / count, "accuracy": correct / count}


def train(model, train_loader, valid_loader, epochs, lr):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.9)
    best_accuracy = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        for tokens, labels in train_loader:
            optimizer.zero_grad()
            criterion(model(tokens), labels).backward()
            optimizer.step()
        metrics = evaluate(model, valid_loader, criterion)
        scheduler.step()
        print(f"| epoch {epoch:3d} | valid accuracy {metrics['accuracy']:.6f} | valid loss {metrics['loss']:.6f}")
        if metrics["accuracy"] > best_accuracy:
            best_accuracy = metrics["accuracy"]
    return model


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=2.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = TextClassifier()
    train_loader = DataLoader(reviews(300, 0), batch_size=16, shuffle=True)
    valid_loader = DataLoader(reviews(100, 1), batch_size=50)
    train(model, train_loader, valid_loader, args.epochs, args.lr)
