"""Tutorial bigram model: `for iter in range(max_iters)`, `if iter % eval_interval == 0:` estimate_loss()."""
import argparse

import torch
import torch.nn as nn
from torch.nn import functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--max_iters", type=int, default=60)
parser.add_argument("--eval_interval", type=int, default=20)
args = parser.parse_args()

batch_size = 16
block_size = 8
eval_iters = 5
torch.manual_seed(1337)
chars = list("abcdefghijklmnop")
vocab_size = len(chars)
data = torch.randint(0, vocab_size, (3000,))
data[1::3] = (data[::3] * 3) % vocab_size
n = int(0.9 * len(data))
train_data = data[:n]
val_data = data[n:]


def get_batch(split):
    d = train_data if split == "train" else val_data
    ix = torch.randint(len(d) - block_size, (batch_size,))
    return torch.stack([d[i : i + block_size] for i in ix]), torch.stack([d[i + 1 : i + block_size + 1] for i in ix])


class BigramLanguageModel(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, 32)
        self.lm_head = nn.Linear(32, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.lm_head(self.token_embedding_table(idx))
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))


model = BigramLanguageModel(vocab_size)
m = model
optimizer = torch.optim.AdamW(m.parameters(), lr=1e-2)


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


for iter in range(args.max_iters):
    if iter % args.eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
    xb, yb = get_batch("train")
    logits, loss = m(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
