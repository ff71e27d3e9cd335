"""Train TinyGPT for a number of epochs over generated token streams; the model builds its own optimizer."""
import argparse

import torch
import torch.nn.functional as F

from model import ModelConfig, TinyGPT


def token_windows(n, block, vocab, seed):
    g = torch.Generator().manual_seed(seed)
    start = torch.randint(0, vocab, (n, 1), generator=g)
    seq = (start + torch.arange(block + 1) * 3) % vocab
    return seq[:, :-1], seq[:, 1:]


def evaluate(model, inputs, targets):
    model.eval()
    with torch.no_grad():
        logits = model(inputs)
        val_loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1)).item()
    model.train()
    return val_loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()
    torch.manual_seed(0)
    cfg = ModelConfig()
    model = TinyGPT(cfg)
    optimizer = model.configure_optimizers(args.lr, 0.1)
    train_x, train_y = token_windows(192, cfg.block_size, cfg.vocab_size, 0)
    val_x, val_y = token_windows(64, cfg.block_size, cfg.vocab_size, 1)
    for epoch in range(args.epochs):
        for i in range(0, len(train_x), 32):
            logits = model(train_x[i:i + 32])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), train_y[i:i + 32].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_loss = evaluate(model, val_x, val_y)
        print(f"epoch {epoch} val loss {val_loss:.3f}")


if __name__ == "__main__":
    main()
