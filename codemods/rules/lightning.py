"""PAI011: grow dendrites in a Lightning script with `PAILightningCallback`.

Before::

    checkpoint = ModelCheckpoint(monitor="val_acc", mode="max")
    trainer = L.Trainer(max_epochs=10, callbacks=[checkpoint])

After (the settings block before the model comes from PAI002)::

    from pai_core import globals_perforatedai as GPA
    from pai_core.integrations.lightning import PAILightningCallback
    ...
    checkpoint = ModelCheckpoint(monitor="val_acc", mode="max")
    trainer = L.Trainer(max_epochs=10, callbacks=[checkpoint, PAILightningCallback(
        monitor="val_acc", mode="max", save_name="train_dendritic")])

The monitored metric and its mode come from the script's ModelCheckpoint (else EarlyStopping), else from the
metric the validation step logs (direction from its name), else `val_loss`/"min" with a warning. The callback
perforates the LightningModule at fit start, re-runs configure_optimizers after each restructure and stops
the Trainer when dendritic training is complete.
"""

from __future__ import annotations

from codemods.examples import Invalid, Valid
from codemods.rules._framework import AddFrameworkCallback

DEFAULT_MODE = '"min"'  # Lightning's default for ModelCheckpoint / EarlyStopping


class AddLightningCallback(AddFrameworkCallback):
    CODE = "PAI011"
    DESCRIPTION = "Add PAILightningCallback (monitor and mode of the script) to the Lightning Trainer."
    LIBRARY = "lightning"
    FRAMEWORKS = (LIBRARY,)
    MODULE = "lightning"
    CALLBACK = "PAILightningCallback"
    VALID = (
        Valid("""
            from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments

            model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
            args = TrainingArguments(output_dir="out", num_train_epochs=3, metric_for_best_model="accuracy")
            trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=val_set)
            trainer.train()
            """),
    )
    INVALID = (
        Invalid("""
            import lightning as L
            import torch
            import torch.nn as nn
            import torch.nn.functional as F


            class LitClassifier(L.LightningModule):
                def __init__(self):
                    super().__init__()
                    self.layer = nn.Linear(28 * 28, 10)

                def training_step(self, batch, batch_idx):
                    x, y = batch
                    loss = F.cross_entropy(self.layer(x.view(x.size(0), -1)), y)
                    self.log("train_loss", loss)
                    return loss

                def validation_step(self, batch, batch_idx):
                    x, y = batch
                    acc = (self.layer(x.view(x.size(0), -1)).argmax(1) == y).float().mean()
                    self.log("val_acc", acc)

                def configure_optimizers(self):
                    return torch.optim.Adam(self.parameters(), lr=1e-3)


            GPA.pc.set_testing_dendrite_capacity(True)
            GPA.pc.set_module_names_to_perforate(['Linear'])
            GPA.pc.set_output_dimensions([-1, 0, -1, -1])
            model = LitClassifier()
            trainer = L.Trainer(max_epochs=10)
            trainer.fit(model)
            """, expected="""
            import lightning as L
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core.integrations.lightning import PAILightningCallback


            class LitClassifier(L.LightningModule):
                def __init__(self):
                    super().__init__()
                    self.layer = nn.Linear(28 * 28, 10)

                def training_step(self, batch, batch_idx):
                    x, y = batch
                    loss = F.cross_entropy(self.layer(x.view(x.size(0), -1)), y)
                    self.log("train_loss", loss)
                    return loss

                def validation_step(self, batch, batch_idx):
                    x, y = batch
                    acc = (self.layer(x.view(x.size(0), -1)).argmax(1) == y).float().mean()
                    self.log("val_acc", acc)

                def configure_optimizers(self):
                    return torch.optim.Adam(self.parameters(), lr=1e-3)


            GPA.pc.set_testing_dendrite_capacity(True)
            GPA.pc.set_module_names_to_perforate(['Linear'])
            GPA.pc.set_output_dimensions([-1, 0, -1, -1])
            model = LitClassifier()
            trainer = L.Trainer(max_epochs=10,
                                callbacks=[PAILightningCallback(monitor="val_acc", mode="max", save_name="train_dendritic")])
            trainer.fit(model)
            """),
    )

    def callback_arguments(self) -> list[str]:
        info = self.report.training_library
        monitor, mode = info.monitor, info.mode
        if monitor is None:
            validation = self.report.validation
            if validation.metric:
                monitor = f'"{validation.metric}"'
                mode = {"maximize": '"max"', "minimize": '"min"'}.get(validation.direction)
                if mode is None:
                    self.note(f"could not tell whether {monitor} should go up or down; wrote mode=\"min\" "
                              '(Lightning\'s default): use mode="max" for an accuracy', info.trainer_line)
            else:
                monitor, mode = '"val_loss"', '"min"'
                self.note('no logged validation metric found: the callback monitors "val_loss" (mode "min"); log '
                          'it in validation_step with self.log("val_loss", loss) or change monitor=',
                          info.trainer_line)
        return [f"monitor={monitor}", f"mode={mode or DEFAULT_MODE}", self.save_name_argument()]

    def review(self) -> None:
        info = self.report.training_library
        if self.report.parallelism.kind == "framework":
            self.note("the Trainer runs on several devices or with a parallel strategy: PAILightningCallback grows "
                      "dendrites on a single process; train on one device until the dendrites are done (see the "
                      "pai-distributed skill)", info.trainer_line)
        self.note("the Trainer stops when dendritic training is complete; max_epochs is only an upper bound, so "
                  "give it room (max_epochs=-1 has no bound)", info.trainer_line)
