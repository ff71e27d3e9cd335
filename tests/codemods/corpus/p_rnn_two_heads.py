"""Joint intent + slot model: an LSTM encoder, a per-token slot head (3-D) and an intent head on h_n (2-D)."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class JointModel(nn.Module):
    def __init__(self, vocab=40, emb=16, hidden=32, slots=5, intents=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.encoder = nn.LSTM(emb, hidden, batch_first=True)
        self.slot_head = nn.Linear(hidden, slots)
        self.intent_head = nn.Linear(hidden, intents)

    def forward(self, tokens):
        states, (h_n, _) = self.encoder(self.embed(tokens))
        sentence = h_n[-1]
        return self.slot_head(states), self.intent_head(sentence)


def utterances(n, seed, length=10):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, 40, (n, length), generator=g)
    return tokens, tokens % 5, (tokens[:, 0] % 3)


def evaluate(model, data):
    tokens, slots, intents = data
    model.eval()
    with torch.no_grad():
        slot_logits, intent_logits = model(tokens)
    intent_acc = (intent_logits.argmax(-1) == intents).float().mean().item()
    slot_acc = (slot_logits.argmax(-1) == slots).float().mean().item()
    return intent_acc, slot_acc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    train = utterances(256, 0)
    val = utterances(64, 1)
    model = JointModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(args.epochs):
        model.train()
        for i in range(0, 256, 32):
            tokens, slots, intents = (t[i:i + 32] for t in train)
            slot_logits, intent_logits = model(tokens)
            loss = F.cross_entropy(slot_logits.reshape(-1, 5), slots.reshape(-1)) + F.cross_entropy(intent_logits, intents)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        intent_acc, slot_acc = evaluate(model, val)
        print(f"epoch {epoch} intent acc {intent_acc:.3f} slot acc {slot_acc:.3f}")


if __name__ == "__main__":
    main()
