"""A small decoder-only language model whose class builds its own optimizer (minGPT-like shape)."""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 48
    block_size: int = 24
    n_embd: int = 32
    n_head: int = 4
    n_layer: int = 2


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.n_head = cfg.n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class DecoderBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.norm2 = nn.LayerNorm(cfg.n_embd)
        self.ff = nn.Sequential(nn.Linear(cfg.n_embd, 2 * cfg.n_embd), nn.GELU(), nn.Linear(2 * cfg.n_embd, cfg.n_embd))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.ff(self.norm2(x))


class TinyGPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.Sequential(*[DecoderBlock(cfg) for _ in range(cfg.n_layer)])
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.size(1), device=idx.device))
        return self.head(self.blocks(x))

    def configure_optimizers(self, lr, weight_decay):
        return torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.95))
