"""HF Trainer with compute_metrics returning accuracy and f1; model selection by metric_for_best_model='f1'."""
import argparse

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch import nn
from transformers import Trainer, TrainingArguments


class ReviewSet(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 24, generator=g)
        self.y = (self.x[:, 0] + self.x[:, 1] > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


class SentimentHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(24, 16)
        self.classifier = nn.Linear(16, 2)

    def forward(self, features, labels=None):
        logits = self.classifier(torch.tanh(self.dense(features)))
        return {"logits": logits, "loss": F.cross_entropy(logits, labels)}


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    return {"accuracy": float((preds == labels).mean()), "f1": float(f1_score(labels, preds))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_train_epochs", type=float, default=2)
    cli = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = TrainingArguments(
        output_dir="hf_out",
        num_train_epochs=cli.num_train_epochs,
        per_device_train_batch_size=32,
        learning_rate=5e-3,
        eval_strategy="epoch",
        save_strategy="no",
        metric_for_best_model="f1",
        greater_is_better=True,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(model=SentimentHead(), args=args, train_dataset=ReviewSet(320, 0),
                      eval_dataset=ReviewSet(80, 1), compute_metrics=compute_metrics)
    trainer.train()


if __name__ == "__main__":
    main()
