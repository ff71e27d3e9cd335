"""HF no_trainer-style loop: `range(starting_epoch, num_train_epochs)`, metric.compute() only logged."""
import argparse
import logging

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import MulticlassF1Score

logger = logging.getLogger(__name__)
logging.basicConfig(format="%(message)s", level=logging.INFO)


class TinyEncoder(nn.Module):
    def __init__(self, vocab=40, dim=16, labels=3):
        super().__init__()
        self.embeddings = nn.Embedding(vocab, dim)
        self.layer = nn.TransformerEncoderLayer(dim, 2, dim_feedforward=32, batch_first=True)
        self.classifier = nn.Linear(dim, labels)

    def forward(self, input_ids):
        return self.classifier(self.layer(self.embeddings(input_ids)).mean(1))


def parse_args():
    parser = argparse.ArgumentParser(description="Finetune a text classifier without the Trainer")
    parser.add_argument("--num_train_epochs", type=int, default=2)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--resume_from_epoch", type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.manual_seed(0)
    ids = torch.randint(0, 40, (360, 10))
    labels = ids[:, 0] % 3
    train_dataloader = DataLoader(TensorDataset(ids[:300], labels[:300]), batch_size=20, shuffle=True)
    eval_dataloader = DataLoader(TensorDataset(ids[300:], labels[300:]), batch_size=30)
    model = TinyEncoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    lr_scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.1, total_iters=100)
    metric = MulticlassF1Score(num_classes=3)
    starting_epoch = args.resume_from_epoch
    for epoch in range(starting_epoch, args.num_train_epochs):
        model.train()
        for input_ids, y in train_dataloader:
            loss = nn.functional.cross_entropy(model(input_ids), y)
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
        model.eval()
        for input_ids, y in eval_dataloader:
            with torch.no_grad():
                predictions = model(input_ids).argmax(dim=-1)
            metric.update(predictions, y)
        eval_metric = metric.compute().item()
        metric.reset()
        logger.info(f"epoch {epoch}: eval_f1 {eval_metric:.6f}")


if __name__ == "__main__":
    main()
