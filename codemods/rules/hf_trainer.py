"""PAI010: grow dendrites in a HuggingFace Trainer script with `PAITrainerCallback` (the Trainer stays the
unmodified upstream one).

Before::

    args = TrainingArguments(output_dir="out", metric_for_best_model="accuracy")
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val)

After (the settings block before the model comes from PAI002)::

    from pai_core import globals_perforatedai as GPA
    from pai_core.integrations.huggingface import PAITrainerCallback
    ...
    args = TrainingArguments(output_dir="out", metric_for_best_model="accuracy", eval_strategy="epoch")
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                      callbacks=[PAITrainerCallback(save_name="train_dendritic")])

The callback perforates the model when the Trainer is built and reads the tracked metric from the
TrainingArguments at run time (`eval_<metric_for_best_model>`, direction from `greater_is_better`; `eval_loss`,
minimized, when unset), so the script keeps one source of truth. Dendrites grow from evaluation scores, so an
`eval_strategy` is added when the TrainingArguments call has none. An existing `callbacks=` list is extended.
A script written for the forked transformers (`Trainer(..., using_perforatedai=True)`) loses that flag.
"""

from __future__ import annotations

import libcst as cst

from codemods.examples import Invalid, Valid
from codemods.rules._framework import AddFrameworkCallback, add_keyword, find_call


class AddTrainerCallback(AddFrameworkCallback):
    CODE = "PAI010"
    DESCRIPTION = "Add PAITrainerCallback to the HuggingFace Trainer (and an eval_strategy when there is none)."
    LIBRARY = "huggingface_trainer"
    FRAMEWORKS = (LIBRARY,)
    MODULE = "huggingface"
    CALLBACK = "PAITrainerCallback"
    VALID = (
        Valid("""
            from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments
            from pai_core import globals_perforatedai as GPA
            from pai_core.integrations.huggingface import PAITrainerCallback

            GPA.pc.set_testing_dendrite_capacity(True)
            model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
            args = TrainingArguments(output_dir="out", eval_strategy="epoch", metric_for_best_model="accuracy")
            trainer = Trainer(model=model, args=args, callbacks=[PAITrainerCallback(save_name="run")])
            trainer.train()
            """),
    )
    INVALID = (
        Invalid("""
            from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments

            GPA.pc.set_testing_dendrite_capacity(True)
            GPA.pc.set_module_names_to_perforate(['Linear'])
            GPA.pc.set_output_dimensions([-1, -1, 0])
            model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
            args = TrainingArguments(output_dir="out", num_train_epochs=3, metric_for_best_model="accuracy")
            trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=val_set)
            trainer.train()
            """, expected="""
            from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments
            from pai_core import globals_perforatedai as GPA
            from pai_core.integrations.huggingface import PAITrainerCallback

            GPA.pc.set_testing_dendrite_capacity(True)
            GPA.pc.set_module_names_to_perforate(['Linear'])
            GPA.pc.set_output_dimensions([-1, -1, 0])
            model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
            args = TrainingArguments(output_dir="out", num_train_epochs=3, metric_for_best_model="accuracy", eval_strategy="epoch")
            trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=val_set,
                              callbacks=[PAITrainerCallback(save_name="train_dendritic")])
            trainer.train()
            """),
        Invalid("""
            from transformers import Trainer, TrainingArguments
            from pai_core import globals_perforatedai as GPA

            GPA.pc.set_testing_dendrite_capacity(True)
            args = TrainingArguments(output_dir="out", eval_strategy="epoch", metric_for_best_model="accuracy")
            trainer = Trainer(model=model, args=args, train_dataset=train_set, using_perforatedai=True)
            trainer.train()
            """, expected="""
            from transformers import Trainer, TrainingArguments
            from pai_core import globals_perforatedai as GPA
            from pai_core.integrations.huggingface import PAITrainerCallback

            GPA.pc.set_testing_dendrite_capacity(True)
            args = TrainingArguments(output_dir="out", eval_strategy="epoch", metric_for_best_model="accuracy")
            trainer = Trainer(model=model, args=args, train_dataset=train_set,
                              callbacks=[PAITrainerCallback(save_name="train_dendritic")])
            trainer.train()
            """),
    )

    def callback_arguments(self) -> list[str]:
        return [self.save_name_argument()]

    def review(self) -> None:
        info = self.report.training_library
        steps = self.report.integration
        if self._removes_fork_flag(info):
            self.note("removed using_perforatedai=...: that flag belongs to the forked transformers; the stock "
                      "Trainer rejects it and PAITrainerCallback does its work", info.trainer_line)
        if info.arguments_line is None:
            self.note("the TrainingArguments are not built in this script (e.g. HfArgumentParser): make sure they "
                      "evaluate (--eval_strategy epoch) and name the tracked metric (--metric_for_best_model)",
                      info.trainer_line)
        elif info.eval_strategy is None:
            stmt = self.statement_at(self.now(info.arguments_line))
            if stmt is not None and find_call(stmt, info.arguments_call or ""):
                value = cst.SimpleString('"epoch"')
                self.edit_call(stmt, info.arguments_call, lambda call: add_keyword(call, "eval_strategy", value))
                self.note('added eval_strategy="epoch" to the TrainingArguments: dendrites grow from evaluation '
                          "scores (the Trainer also needs an eval_dataset)", info.arguments_line)
        elif info.eval_strategy.strip("\"'") == "no":
            self.note('eval_strategy="no": the callback needs evaluations; set eval_strategy="epoch"',
                      info.arguments_line)
        named_by_config = steps.step("library_validation_score")  # upstream's way to name the metric
        named_by_config = named_by_config is not None and named_by_config.status == "present"
        if info.metric_for_best_model is None and info.arguments_line is not None and not named_by_config:
            self.note("no metric_for_best_model in the TrainingArguments: the callback tracks eval_loss "
                      "(minimized); set metric_for_best_model (and greater_is_better) to track another metric",
                      info.arguments_line)
        if (info.load_best_model_at_end or "").strip() == "True":
            self.note("load_best_model_at_end=True reloads a checkpoint with another number of dendrites at the "
                      "end; the tracker already restores the best model: set it to False", info.arguments_line)
        self.note("the Trainer stops when dendritic training is complete; num_train_epochs is only an upper "
                  "bound, so give it room (dendrites need several times the usual epochs)", info.trainer_line)

    def _removes_fork_flag(self, info) -> bool:
        """The Trainer call carries `using_perforatedai=`, which add_callback drops (the analysis lists every
        step, a missing one too, so the step alone does not say the flag is there)."""
        stmt = self.statement_at(self.now(info.trainer_line))
        flagged = lambda call: any(a.keyword is not None and a.keyword.value == "using_perforatedai"  # noqa: E731
                                   for a in call.args)
        return stmt is not None and find_call(stmt, info.trainer_call or "", flagged)
