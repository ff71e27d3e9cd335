"""Character-level GPT training in the shape of nanoGPT's train.py: an iteration loop with periodic evaluation."""
import argparse
import os

import torch

from model import GPT, GPTConfig

parser = argparse.ArgumentParser()
parser.add_argument("--max_iters", type=int, default=200)
parser.add_argument("--eval_interval", type=int, default=20)
parser.add_argument("--epochs", type=int, default=0, help="unused; kept for the launcher")
cli = parser.parse_args()

out_dir = "out"
batch_size = 16
block_size = 32
learning_rate = 3e-3
weight_decay = 0.1
eval_iters = 4
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(1337)

# synthetic "text": a repeating pattern with noise, 64 symbols
g = torch.Generator().manual_seed(0)
data = (torch.arange(4000) % 17 + torch.randint(0, 3, (4000,), generator=g)) % 64
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]


def get_batch(split):
    source = train_data if split == "train" else val_data
    ix = torch.randint(len(source) - block_size, (batch_size,))
    x = torch.stack([source[i:i + block_size] for i in ix])
    y = torch.stack([source[i + 1:i + 1 + block_size] for i in ix])
    return x.to(device), y.to(device)


model_args = dict(n_layer=2, n_head=2, n_embd=32, block_size=block_size, bias=True, vocab_size=64, dropout=0.0)
gptconf = GPTConfig(**model_args)
model = GPT(gptconf)
model.to(device)
optimizer = model.configure_optimizers(weight_decay, learning_rate, (0.9, 0.95), device)


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            _, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


iter_num = 0
best_val_loss = 1e9
X, Y = get_batch("train")
while True:
    if iter_num % cli.eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        if losses["val"] < best_val_loss:
            best_val_loss = losses["val"]
            os.makedirs(out_dir, exist_ok=True)
            torch.save({"model": model.state_dict(), "iter_num": iter_num}, os.path.join(out_dir, "ckpt.pt"))
    _, loss = model(X, Y)
    X, Y = get_batch("train")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    iter_num += 1
    if iter_num > cli.max_iters:
        break
