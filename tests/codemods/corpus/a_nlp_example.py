# A sentence-pair classifier fine-tuned with HF Accelerate, in the shape of accelerate's nlp_example:
# training_function(config, args), one Accelerator, a warmup schedule stepped every batch, the whole
# setup through accelerator.prepare, gather_for_metrics in evaluation. Synthetic token ids stand in for MRPC.
import argparse

import torch
from accelerate import Accelerator
from torch import nn
from torch.optim import AdamW
from torch.utils.data import DataLoader, TensorDataset
from transformers import get_linear_schedule_with_warmup

VOCAB, SEQ_LEN = 200, 24


class PairClassifier(nn.Module):
    def __init__(self, vocab=VOCAB, dim=32, num_labels=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.Linear(dim, 64)
        self.head = nn.Linear(64, num_labels)

    def forward(self, input_ids):
        pooled = self.embed(input_ids).mean(dim=1)
        return self.head(torch.relu(self.encoder(pooled)))


def get_dataloaders(batch_size, n_train=320, n_eval=96):
    g = torch.Generator().manual_seed(0)

    def make(n):
        ids = torch.randint(0, VOCAB, (n, SEQ_LEN), generator=g)
        labels = (ids[:, : SEQ_LEN // 2].float().mean(1) > ids[:, SEQ_LEN // 2:].float().mean(1)).long()
        return TensorDataset(ids, labels)

    train = DataLoader(make(n_train), batch_size=batch_size, shuffle=True)
    evaluation = DataLoader(make(n_eval), batch_size=32)
    return train, evaluation


def training_function(config, args):
    accelerator = Accelerator(cpu=args.cpu, mixed_precision=args.mixed_precision)
    lr = config["lr"]
    num_epochs = int(config["num_epochs"])
    torch.manual_seed(int(config["seed"]))
    train_dataloader, eval_dataloader = get_dataloaders(int(config["batch_size"]))

    model = PairClassifier()
    optimizer = AdamW(params=model.parameters(), lr=lr)
    lr_scheduler = get_linear_schedule_with_warmup(
        optimizer=optimizer, num_warmup_steps=10, num_training_steps=len(train_dataloader) * num_epochs
    )
    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader, lr_scheduler
    )
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(num_epochs):
        model.train()
        for step, (input_ids, labels) in enumerate(train_dataloader):
            loss = loss_fn(model(input_ids), labels)
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()

        model.eval()
        correct = total = 0
        for step, (input_ids, labels) in enumerate(eval_dataloader):
            with torch.no_grad():
                predictions = model(input_ids).argmax(dim=-1)
            predictions, references = accelerator.gather_for_metrics((predictions, labels))
            correct += (predictions == references).sum().item()
            total += references.numel()
        accuracy = correct / total
        accelerator.print(f"epoch {epoch}: accuracy {accuracy:.4f}")
    accelerator.end_training()


def main():
    parser = argparse.ArgumentParser(description="Simple example of a training script.")
    parser.add_argument("--mixed_precision", type=str, default=None, choices=["no", "fp16", "bf16"])
    parser.add_argument("--cpu", action="store_true", help="If passed, will train on the CPU.")
    parser.add_argument("--num_epochs", type=int, default=3)
    args = parser.parse_args()
    config = {"lr": 3e-3, "num_epochs": args.num_epochs, "seed": 42, "batch_size": 16}
    training_function(config, args)


if __name__ == "__main__":
    main()
