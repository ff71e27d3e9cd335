"""Digits classification with the HuggingFace Trainer: the input of the PAI010 end-to-end test."""
import torch
import torch.nn.functional as F
from torch import nn
from transformers import Trainer, TrainingArguments

from pai_core.datasets import load_digits_splits


class DigitsSet(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"pixels": self.x[i], "labels": self.y[i]}


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, pixels, labels=None):
        logits = self.fc2(F.relu(self.fc1(pixels)))
        return {"logits": logits, "loss": F.cross_entropy(logits, labels)}


def compute_metrics(prediction):
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = load_digits_splits()
    model = DigitsNet()
    args = TrainingArguments(
        output_dir="hf_out",
        num_train_epochs=20,
        per_device_train_batch_size=64,
        learning_rate=1e-2,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        metric_for_best_model="accuracy",
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=DigitsSet(data.x_train, data.y_train),
        eval_dataset=DigitsSet(data.x_val, data.y_val),
        compute_metrics=compute_metrics,
    )
    trainer.train()
    print("final", trainer.evaluate())


if __name__ == "__main__":
    main()
