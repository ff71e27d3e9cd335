"""Text classification with a small Transformer encoder (AG News style), optimizer imported via an alias."""
import argparse
import math

import torch
from torch import nn
from torch import optim as O
from torch.utils.data import DataLoader


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=512):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, d_model=128, nhead=4, num_layers=2, dim_feedforward=256,
                 dropout=0.1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, tokens, padding_mask=None):
        x = self.pos_encoder(self.embedding(tokens))
        x = self.encoder(x, src_key_padding_mask=padding_mask)
        x = self.norm(x).mean(dim=1)
        return self.classifier(x)


def train_epoch(model, loader, optimizer, scheduler, criterion, device):
    model.train()
    total = 0.0
    for tokens, labels in loader:
        tokens, labels = tokens.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(tokens), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def evaluate(model, loader, criterion, device):
    model.eval()
    loss, correct, count = 0.0, 0, 0
    for tokens, labels in loader:
        tokens, labels = tokens.to(device), labels.to(device)
        logits = model(tokens)
        loss += criterion(logits, labels).item() * labels.size(0)
        correct += (logits.argmax(-1) == labels).sum().item()
        count += labels.size(0)
    return loss / count, correct / count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--nhead", type=int, default=4)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--patience", type=int, default=3)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, val_loader, test_loader, vocab = build_loaders()
    model = TransformerClassifier(len(vocab), 4, args.d_model, args.nhead, args.num_layers,
                                  dropout=args.dropout).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = O.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = O.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                          steps_per_epoch=len(train_loader))

    best_acc, bad_epochs = 0.0, 0
    for epoch in range(args.epochs):
        train_loss = train_epoch(model, train_loader, optimizer, scheduler, criterion, device)
        val_loss, val_acc = evaluate(model, val_loader, criterion, device)
        print(f"epoch {epoch}: train {train_loss:.3f} val loss {val_loss:.3f} acc {val_acc:.3f}")
        if val_acc > best_acc:
            best_acc, bad_epochs = val_acc, 0
            torch.save(model.state_dict(), "best.pt")
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                print("early stopping")
                break
    model.load_state_dict(torch.load("best.pt"))
    test_loss, test_acc = evaluate(model, test_loader, criterion, device)
    print(f"test acc {test_acc:.3f}")


def build_loaders():
    raise NotImplementedError("dataset loading omitted from this fixture")


if __name__ == "__main__":
    main()
