"""HF Trainer fine-tuning script with a --deepspeed flag passed to TrainingArguments (the transformers
examples' way to turn on ZeRO sharding); by default it trains on one process."""
import argparse

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainingArguments


class Pairs(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 10, generator=g)
        self.y = (self.x[:, 0] + self.x[:, 1] > 0).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, features, labels=None):
        logits = self.body(features)
        return {"logits": logits, "loss": nn.functional.cross_entropy(logits, labels)}


def compute_metrics(eval_pred):
    return {"accuracy": float((np.argmax(eval_pred.predictions, -1) == eval_pred.label_ids).mean())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deepspeed", default=None, help="path to a DeepSpeed ZeRO config (json)")
    parser.add_argument("--epochs", type=float, default=3)
    args = parser.parse_args()
    training_args = TrainingArguments(output_dir="ds_out", num_train_epochs=args.epochs, eval_strategy="epoch",
                                      save_strategy="no", deepspeed=args.deepspeed, report_to=[], use_cpu=True,
                                      metric_for_best_model="accuracy", disable_tqdm=True)
    trainer = Trainer(model=Classifier(), args=training_args, train_dataset=Pairs(192, 0), eval_dataset=Pairs(64, 1),
                      compute_metrics=compute_metrics)
    trainer.train()


if __name__ == "__main__":
    main()
