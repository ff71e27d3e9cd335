"""The optimizer is built by a method of the model (nanoGPT's configure_optimizers with weight-decay groups)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class CharModel(nn.Module):
    def __init__(self, vocab=20, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.ln = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, vocab)

    def forward(self, idx):
        return self.fc(self.ln(self.embed(idx)))

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        decay = [p for p in self.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


def chars(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 20, (n,), generator=g)
    return TensorDataset(x, (x * 7 + 3) % 20)


@torch.no_grad()
def validate(model, loader):
    model.eval()
    losses = [nn.functional.cross_entropy(model(x), y).item() for x, y in loader]
    return sum(losses) / len(losses)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning_rate", type=float, default=1e-2)
    parser.add_argument("--weight_decay", type=float, default=0.1)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = CharModel()
    optimizer = model.configure_optimizers(args.weight_decay, args.learning_rate, (0.9, 0.95))
    train_loader = DataLoader(chars(400, 0), batch_size=50, shuffle=True)
    val_loader = DataLoader(chars(100, 1), batch_size=50)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        val_loss = validate(model, val_loader)
        print(f"epoch {epoch} val_loss {val_loss:.6f}")


if __name__ == "__main__":
    main()
