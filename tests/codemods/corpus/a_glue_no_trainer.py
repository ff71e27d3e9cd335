#!/usr/bin/env python
# Fine-tuning a small transformer for sequence classification with HF Accelerate, in the shape of
# transformers' examples/pytorch/text-classification/run_glue_no_trainer.py: parse_args(), get_logger,
# set_seed, weight-decay parameter groups, get_scheduler stepped per update, accelerator.accumulate,
# a tqdm bar on the local main process, gather_for_metrics, and the unwrapped model saved at the end.
# A small classifier returning transformers' SequenceClassifierOutput stands in for AutoModelForSequence-
# Classification (nothing is downloaded); the "GLUE" pairs are synthetic.
import argparse
import math
import os

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm
from torch import nn
from transformers import get_scheduler
from transformers.modeling_outputs import SequenceClassifierOutput

logger = get_logger(__name__)


def parse_args():
    parser = argparse.ArgumentParser(description="Finetune a transformers model on a text classification task")
    parser.add_argument("--max_length", type=int, default=16)
    parser.add_argument("--per_device_train_batch_size", type=int, default=16)
    parser.add_argument("--per_device_eval_batch_size", type=int, default=32)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--weight_decay", type=float, default=0.01)
    parser.add_argument("--num_train_epochs", type=int, default=3)
    parser.add_argument("--max_train_steps", type=int, default=None)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--lr_scheduler_type", type=str, default="linear")
    parser.add_argument("--num_warmup_steps", type=int, default=0)
    parser.add_argument("--output_dir", type=str, default=None)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


class PairClassifier(nn.Module):
    def __init__(self, vocab_size=120, hidden_size=32, num_labels=2):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, input_ids, attention_mask, labels=None):
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (self.embeddings(input_ids) * mask).sum(1) / mask.sum(1)
        logits = self.classifier(torch.tanh(self.dense(self.LayerNorm(pooled))))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def synthetic_glue(n, max_length, vocab_size, seed):
    g = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, vocab_size, (n, max_length), generator=g)
    labels = (input_ids[:, 1] > input_ids[:, 2]).long()
    input_ids[:, 0] = 2  # [CLS]
    return TensorDataset(input_ids, torch.ones_like(input_ids), labels)


def main():
    args = parse_args()
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    logger.info(accelerator.state, main_process_only=False)
    if args.seed is not None:
        set_seed(args.seed)
    if accelerator.is_main_process and args.output_dir is not None:
        os.makedirs(args.output_dir, exist_ok=True)
    accelerator.wait_for_everyone()

    model = PairClassifier(num_labels=2)

    train_dataset = synthetic_glue(320, args.max_length, 120, seed=1)
    eval_dataset = synthetic_glue(96, args.max_length, 120, seed=2)
    train_dataloader = DataLoader(train_dataset, shuffle=True, batch_size=args.per_device_train_batch_size)
    eval_dataloader = DataLoader(eval_dataset, batch_size=args.per_device_eval_batch_size)

    no_decay = ["bias", "LayerNorm.weight"]
    optimizer_grouped_parameters = [
        {
            "params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(optimizer_grouped_parameters, lr=args.learning_rate)

    num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    if args.max_train_steps is None:
        args.max_train_steps = args.num_train_epochs * num_update_steps_per_epoch
    lr_scheduler = get_scheduler(
        name=args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=args.num_warmup_steps,
        num_training_steps=args.max_train_steps,
    )

    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader, lr_scheduler
    )

    logger.info("***** Running training *****")
    progress_bar = tqdm(range(args.max_train_steps), disable=not accelerator.is_local_main_process)
    completed_steps = 0
    for epoch in range(0, args.num_train_epochs):
        model.train()
        for step, (input_ids, attention_mask, labels) in enumerate(train_dataloader):
            with accelerator.accumulate(model):
                outputs = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
                loss = outputs.loss
                accelerator.backward(loss)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                progress_bar.update(1)
                completed_steps += 1

        model.eval()
        samples_seen = 0
        correct = 0
        for step, (input_ids, attention_mask, labels) in enumerate(eval_dataloader):
            with torch.no_grad():
                outputs = model(input_ids=input_ids, attention_mask=attention_mask)
            predictions = outputs.logits.argmax(dim=-1)
            predictions, references = accelerator.gather_for_metrics((predictions, labels))
            correct += (predictions == references).sum().item()
            samples_seen += references.shape[0]
        eval_accuracy = correct / samples_seen
        logger.info(f"epoch {epoch}: accuracy {eval_accuracy:.4f}")
        accelerator.print(f"epoch {epoch}: eval_accuracy {eval_accuracy:.4f} after {completed_steps} steps")

    if args.output_dir is not None:
        accelerator.wait_for_everyone()
        unwrapped_model = accelerator.unwrap_model(model)
        if accelerator.is_main_process:
            torch.save(unwrapped_model.state_dict(), os.path.join(args.output_dir, "model.pt"))
    accelerator.end_training()


if __name__ == "__main__":
    main()
