"""Dendrites for the unmodified HuggingFace `transformers.Trainer`, as one `TrainerCallback`::

    trainer = Trainer(model=model, args=TrainingArguments(..., eval_strategy="epoch",
                                                           metric_for_best_model="accuracy"),
                      ..., callbacks=[PAITrainerCallback(save_name="my_run")])
    trainer.train()

- `on_init_end` perforates the Trainer's model in place (layers get wrapped, the model object stays the same;
  a model you perforated yourself is used as it is);
- `on_evaluate` (during `train()` only) feeds `eval_<metric_for_best_model>` to the tracker (`eval_loss` when
  unset), maximizing when `greater_is_better` (the Trainer's own default: False for names ending in "loss");
- after a restructure the Trainer's optimizer (the same object, which the Trainer, accelerate and the scheduler
  all hold) is given the model's new parameter set and a fresh state, exactly as if rebuilt with the same
  class, hyperparameters and weight-decay groups, and the learning-rate schedule starts again from its first
  step, as `create_scheduler` would build it;
- when dendritic training is complete it sets `control.should_training_stop`; the model holds the best weights.

The run folder (<save_name>/, CSVs, PNG, checkpoints, pai_run.json) is written by the tracker as usual.
"""
from __future__ import annotations

import logging
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as exc:  # an optional extra: say how to get it
    raise ImportError("pai_core.integrations.huggingface needs transformers and accelerate: "
                      "pip install 'pai[frameworks]' (or pip install transformers accelerate).") from exc

from pai_core.distributed import refresh_wrappers
from pai_core.integrations._common import (
    IntegrationError,
    forward_extra_scores,
    groups_by_name,
    inner_optimizer,
    library_option,
    perforate_in_place,
    refresh_optimizer,
    restart_scheduler,
    run_config,
)

__all__ = ["PAITrainerCallback"]

logger = logging.getLogger("pai_core.integrations.huggingface")


class PAITrainerCallback(TrainerCallback):
    """Grow dendrites during `Trainer.train()`.

    `config`: a pai_core PAIConfig (default: the GPA.pc defaults); `**options` override single options of it
    (e.g. `testing_dendrite_capacity=False`). `metric` / `greater_is_better` override the TrainingArguments'
    `metric_for_best_model` / `greater_is_better`; upstream's `library_validation_score` option names the metric
    too, and the metrics named by `library_extra_scores` (`_without_graphing`) become extra scores.
    `resume=True` continues <save_name>/latest.pt.
    """

    def __init__(self, config: Any = None, *, save_name: str = "PAI", metric: str | None = None,
                 greater_is_better: bool | None = None, resume: bool = False, **options: Any) -> None:
        self.config = run_config(config, options)
        self.save_name = save_name
        self.metric = metric
        self.greater_is_better = greater_is_better
        self.resume = resume
        self.tracker = None
        self._groups = None  # ParamLayout of the optimizer, taken at train begin
        self._training = False
        self._missing_extras: set[str] = set()

    # ------------------------------------------------------------------ what is tracked
    def metric_key(self, args: Any) -> str:
        """The key of the tracked score in the evaluation metrics (`eval_accuracy`, `eval_loss`, ...): `metric`,
        else upstream's GPA.pc library_validation_score, else metric_for_best_model, else eval_loss."""
        name = self.metric or library_option(self.config, "library_validation_score") or \
            getattr(args, "metric_for_best_model", None) or "loss"
        return self.metric_key_of(name)

    def maximizing(self, args: Any) -> bool:
        if self.greater_is_better is not None:
            return bool(self.greater_is_better)
        from_args = getattr(args, "metric_for_best_model", None)
        if from_args and self.metric_key(args) == self.metric_key_of(from_args) and \
                getattr(args, "greater_is_better", None) is not None:
            return bool(args.greater_is_better)
        return not self.metric_key(args).endswith("loss")

    @staticmethod
    def metric_key_of(name: str) -> str:
        return name if name.startswith("eval_") else f"eval_{name}"

    # ------------------------------------------------------------------ events
    def _perforate(self, args: Any, model: Any) -> None:
        if self.tracker is None and model is not None:
            self.tracker = perforate_in_place(model, self.config, save_name=self.save_name,
                                              maximizing_score=self.maximizing(args), resume=self.resume)

    def on_init_end(self, args, state, control, model=None, **kwargs):
        self._perforate(args, model)  # before train() builds the optimizer, so it sees the wrapped layers

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if str(getattr(args, "eval_strategy", "epoch")) in ("no", "IntervalStrategy.NO"):
            raise IntegrationError(
                "PAITrainerCallback grows dendrites from evaluation scores, but TrainingArguments has "
                "eval_strategy='no'. Set eval_strategy='epoch' (or 'steps' with eval_steps) and pass an "
                "eval_dataset to the Trainer.")
        if getattr(args, "load_best_model_at_end", False):
            logger.warning("load_best_model_at_end=True: the Trainer would reload a checkpoint with another "
                           "number of dendrites at the end. The tracker already restores the best model; set "
                           "load_best_model_at_end=False.")
        self._perforate(args, model)  # a model built by model_init exists only now
        if self.tracker is None:
            raise IntegrationError("PAITrainerCallback got no model from the Trainer; pass model= (or model_init=).")
        if optimizer is None:
            raise IntegrationError("The Trainer has no optimizer at train begin; PAITrainerCallback needs "
                                   "transformers' regular train() (no DeepSpeed/FSDP-delayed optimizer).")
        self._groups = groups_by_name(optimizer, model)
        self._training = True
        if self.tracker.state.completed:  # e.g. resume=True on a finished run: nothing left to train
            logger.info("Dendritic training of %s is already complete; stopping.", self.tracker.save_name)
            control.should_training_stop = True
        else:
            self.tracker.set_optimizer_instance(inner_optimizer(optimizer))
        return control

    def on_evaluate(self, args, state, control, metrics=None, model=None, optimizer=None, lr_scheduler=None,
                    **kwargs):
        if not self._training or self.tracker is None:  # trainer.evaluate() outside train() is not an epoch
            return control
        key = self.metric_key(args)
        if key not in (metrics or {}):
            raise IntegrationError(
                f"PAITrainerCallback tracks {key!r}, which the evaluation did not return (it returned "
                f"{sorted(metrics or {})}). Set TrainingArguments(metric_for_best_model=...) to one of those "
                "names without the 'eval_' prefix, or return it from compute_metrics.")
        tracker = self.tracker
        forward_extra_scores(tracker, metrics, self._missing_extras)
        returned, restructured, complete = tracker.add_validation_score(metrics[key], model)
        if returned is not model:  # the tracker grows dendrites in place; a new object could not reach the loop
            raise IntegrationError("The tracker returned a different model object; the Trainer cannot use it.")
        if complete:
            control.should_training_stop = True
            logger.info("Dendritic training complete (%s): stopping the Trainer with the best model loaded.",
                        tracker.state.completion_reason)
        elif restructured:
            refresh_wrappers(model)  # torchrun / accelerate launch: the Trainer's DDP object syncs the new dendrites
            self._groups = refresh_optimizer(optimizer, model, self._groups)
            restart_scheduler(lr_scheduler, optimizer)
            tracker.set_optimizer_instance(inner_optimizer(optimizer))
        return control

    def on_train_end(self, args, state, control, **kwargs):
        self._training = False
        if self.tracker is None:
            return control
        self.tracker.flush()
        if not self.tracker.state.completed:
            logger.warning("Training ended before dendritic training was complete (%d dendrite(s) so far): raise "
                           "num_train_epochs / max_steps so the tracker can decide when to stop.",
                           self.tracker.state.num_dendrites_added)
        return control
