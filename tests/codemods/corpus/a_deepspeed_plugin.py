"""A language-model fine-tune whose Accelerator takes a DeepSpeed ZeRO plugin when --zero_stage is given (the
shape of accelerate's deepspeed_with_config_support example and of many LLM fine-tuning repos); without the
flag it runs plain. Random token streams stand in for the corpus."""
import argparse

import torch
from accelerate import Accelerator, DeepSpeedPlugin
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class TinyLM(nn.Module):
    def __init__(self, vocab=64, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, idx):
        return self.out(torch.relu(self.mix(self.embed(idx))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zero_stage", type=int, default=0, help="DeepSpeed ZeRO stage (0: no DeepSpeed)")
    parser.add_argument("--num_train_epochs", type=int, default=2)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    args = parser.parse_args()

    deepspeed_plugin = None
    if args.zero_stage > 0:
        deepspeed_plugin = DeepSpeedPlugin(zero_stage=args.zero_stage, gradient_accumulation_steps=1)
    accelerator = Accelerator(deepspeed_plugin=deepspeed_plugin)

    tokens = torch.randint(0, 64, (256, 17), generator=torch.Generator().manual_seed(0))
    train_dataloader = DataLoader(TensorDataset(tokens[:200]), batch_size=16, shuffle=True)
    eval_dataloader = DataLoader(TensorDataset(tokens[200:]), batch_size=16)
    model = TinyLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader)

    for epoch in range(args.num_train_epochs):
        model.train()
        for (batch,) in train_dataloader:
            logits = model(batch[:, :-1])
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        losses = []
        with torch.no_grad():
            for (batch,) in eval_dataloader:
                logits = model(batch[:, :-1])
                loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
                losses.append(accelerator.gather_for_metrics(loss.reshape(1)))
        eval_loss = torch.cat(losses).mean().item()
        accelerator.print(f"epoch {epoch}: eval_loss {eval_loss:.4f}")


if __name__ == "__main__":
    main()
