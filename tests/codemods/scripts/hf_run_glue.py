"""Fine-tuning a sequence classifier on GLUE with the HuggingFace Trainer (run_glue style)."""
import logging
import sys
from dataclasses import dataclass, field
from typing import Optional

import evaluate
import numpy as np
from datasets import load_dataset

import transformers
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
    set_seed,
)

logger = logging.getLogger(__name__)


@dataclass
class DataTrainingArguments:
    task_name: Optional[str] = field(default="mrpc", metadata={"help": "The name of the GLUE task."})
    max_seq_length: int = field(default=128)
    pad_to_max_length: bool = field(default=True)


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="bert-base-cased")
    config_name: Optional[str] = field(default=None)
    tokenizer_name: Optional[str] = field(default=None)
    hidden_dropout_prob: float = field(default=0.1)


def main():
    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, TrainingArguments))
    model_args, data_args, training_args = parser.parse_args_into_dataclasses()
    set_seed(training_args.seed)

    raw_datasets = load_dataset("nyu-mll/glue", data_args.task_name)
    label_list = raw_datasets["train"].features["label"].names
    num_labels = len(label_list)

    config = AutoConfig.from_pretrained(
        model_args.config_name if model_args.config_name else model_args.model_name_or_path,
        num_labels=num_labels,
        finetuning_task=data_args.task_name,
    )
    tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_args.model_name_or_path,
        config=config,
    )

    def preprocess_function(examples):
        return tokenizer(examples["sentence1"], examples["sentence2"], padding="max_length",
                         max_length=data_args.max_seq_length, truncation=True)

    raw_datasets = raw_datasets.map(preprocess_function, batched=True)
    train_dataset = raw_datasets["train"]
    eval_dataset = raw_datasets["validation"]
    metric = evaluate.load("glue", data_args.task_name)

    def compute_metrics(p):
        preds = np.argmax(p.predictions, axis=1)
        result = metric.compute(predictions=preds, references=p.label_ids)
        return result

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        compute_metrics=compute_metrics,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )

    if training_args.do_train:
        train_result = trainer.train()
        trainer.save_model()
        trainer.log_metrics("train", train_result.metrics)
    if training_args.do_eval:
        metrics = trainer.evaluate(eval_dataset=eval_dataset)
        trainer.log_metrics("eval", metrics)


if __name__ == "__main__":
    main()
