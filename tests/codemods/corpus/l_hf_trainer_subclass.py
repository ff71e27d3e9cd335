"""A Trainer subclass overriding compute_loss (class weights); selection on eval_loss, greater_is_better=False."""
import argparse

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Trainer, TrainingArguments


class TicketSet(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 16, generator=g)
        self.y = (self.x[:, 0] > 0.8).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"inputs": self.x[i], "labels": self.y[i]}


class TicketModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(16, 16)
        self.out = nn.Linear(16, 2)

    def forward(self, inputs, labels=None):
        return {"logits": self.out(F.relu(self.hidden(inputs)))}


class WeightedTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs["logits"], labels, weight=torch.tensor([1.0, 3.0]))
        return (loss, outputs) if return_outputs else loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=float, default=2)
    cli = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = TrainingArguments(output_dir="hf_out", num_train_epochs=cli.epochs, per_device_train_batch_size=32,
                             learning_rate=5e-3, eval_strategy="epoch", save_strategy="no",
                             metric_for_best_model="eval_loss", greater_is_better=False, report_to=[],
                             use_cpu=True, disable_tqdm=True)
    trainer = WeightedTrainer(model=TicketModel(), args=args, train_dataset=TicketSet(320, 0),
                              eval_dataset=TicketSet(80, 1))
    trainer.train()


if __name__ == "__main__":
    main()
