"""LSTM sequence classifier: the last time step of the output feeds the classifier."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class LSTMClassifier(nn.Module):
    def __init__(self, input_size=4, hidden_size=24, num_layers=1, num_classes=3):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


def sequences(n, seed, length=20):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    trend = (y.float() - 1).view(-1, 1, 1) * torch.linspace(0, 1, length).view(1, -1, 1)
    return TensorDataset(trend + 0.3 * torch.randn(n, length, 4, generator=g), y)


def evaluate(model, loader, criterion):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss += criterion(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
    return loss / len(loader.dataset), correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=24)
    args = parser.parse_args()
    torch.manual_seed(0)
    train_loader = DataLoader(sequences(256, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(sequences(96, 1), batch_size=96)
    model = LSTMClassifier(hidden_size=args.hidden)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        val_loss, val_acc = evaluate(model, val_loader, criterion)
        print(f"epoch {epoch} loss {val_loss:.3f} acc {val_acc:.3f}")


if __name__ == "__main__":
    main()
