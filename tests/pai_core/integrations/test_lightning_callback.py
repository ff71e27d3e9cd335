"""The PAILightningCallback with a real Lightning Trainer on CPU and the real digits data: perforation at fit
start, restructures that rebuild the optimizers through configure_optimizers, a stop when complete."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

L = pytest.importorskip("lightning")

from framework_support import DATA, DendriteProbe
from torch import nn

from pai_core.integrations._common import IntegrationError
from pai_core.integrations.lightning import PAILightningCallback
from pai_core.modules import neuron_modules

torch.set_num_threads(1)


class DigitsModule(L.LightningModule):
    def __init__(self, width: int = 8, lr: float = 1e-2):
        super().__init__()
        self.fc1 = nn.Linear(64, width)
        self.fc2 = nn.Linear(width, 10)
        self.lr = lr
        self.optimizer_builds = 0

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        self.optimizer_builds += 1
        optimizer = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 10, 0.5)}


class ProbeCallback(L.Callback):
    def __init__(self):
        self.probe = DendriteProbe()

    def on_train_epoch_start(self, trainer, pl_module):
        self.probe.epoch_begins(pl_module)

    def on_validation_start(self, trainer, pl_module):  # fit validates before on_train_epoch_end
        if not trainer.sanity_checking:
            self.probe.epoch_ends(pl_module)


def loaders():
    train = torch.utils.data.TensorDataset(DATA.x_train, DATA.y_train)
    val = torch.utils.data.TensorDataset(DATA.x_val, DATA.y_val)
    return (torch.utils.data.DataLoader(train, batch_size=64, shuffle=True),
            torch.utils.data.DataLoader(val, batch_size=300))


def trainer_with(callbacks, max_epochs: int = 30):
    return L.Trainer(max_epochs=max_epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks,
                     num_sanity_val_steps=1)


def pai_callback(save_name: str, **kwargs) -> PAILightningCallback:
    return PAILightningCallback(save_name=save_name, module_names_to_perforate=["Linear"],
                                output_dimensions=[-1, 0], **kwargs)


def test_fit_grows_trains_and_stops_with_dendrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    torch.manual_seed(0)
    module = DigitsModule()
    pai, probe = pai_callback("pl_digits", monitor="val_acc", mode="max"), ProbeCallback()
    trainer = trainer_with([pai, probe])
    trainer.fit(module, *loaders())

    tracker = pai.tracker
    assert [m.name for m in neuron_modules(module)] == [".fc1", ".fc2"]
    assert tracker.state.completed and tracker.state.completion_reason == "capacity_test_passed"
    assert tracker.state.maximizing_score is True
    assert trainer.current_epoch < 30  # stopped by the callback
    assert module.optimizer_builds == 1 + 3  # configure_optimizers again after each of the 3 restructures
    optimized = {id(p) for group in trainer.optimizers[0].param_groups for p in group["params"]}
    assert all(id(p) in optimized for p in module.parameters())  # the last optimizer covers every dendrite
    assert trainer.lr_scheduler_configs[0].scheduler.optimizer is trainer.optimizers[0]
    assert probe.probe.checked_epochs >= 3 and probe.probe.unchanged == []  # every new dendrite trained
    assert len(tracker.state.accuracies) == 4  # one score per validation epoch, no sanity check
    summary = json.loads((tmp_path / "pl_digits" / "pai_run.json").read_text())
    assert summary["dendrites"] == 3 and summary["status"] == "complete"


def test_probe_detects_an_optimizer_that_was_not_rebuilt(tmp_path, monkeypatch):
    """Negative control: with configure_optimizers not re-run the dendrites stay untouched; the probe sees it and
    the tracker refuses the next score."""
    from pai_core.errors import OptimizerNotRebuiltError

    monkeypatch.chdir(tmp_path)
    original, calls = L.pytorch.strategies.SingleDeviceStrategy.setup_optimizers, []

    def first_time_only(self, trainer):
        calls.append(1)
        if len(calls) == 1:
            original(self, trainer)

    monkeypatch.setattr(L.pytorch.strategies.SingleDeviceStrategy, "setup_optimizers", first_time_only)
    torch.manual_seed(0)
    pai, probe = pai_callback("pl_untrained", monitor="val_acc", mode="max"), ProbeCallback()
    with pytest.raises(OptimizerNotRebuiltError, match="did not change"):
        trainer_with([pai, probe], max_epochs=3).fit(DigitsModule(), *loaders())
    assert len(calls) > 1 and probe.probe.checked_epochs >= 1
    assert any(name.endswith("dendrites_to_top") for name in probe.probe.unchanged)


def test_loss_is_minimized_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    pai = pai_callback("pl_loss", n_epochs_to_switch=100, testing_dendrite_capacity=False,
                       library_extra_scores=["val_acc"])
    trainer_with([pai], max_epochs=2).fit(DigitsModule(), *loaders())
    assert pai.tracker.state.maximizing_score is False
    losses = pai.tracker.state.accuracies
    assert len(losses) == 2 and losses[1] < losses[0]
    accuracies = pai.tracker.state.extra_scores["val_acc"]  # upstream's library_extra_scores option
    assert len(accuracies) == 2 and 0.0 < accuracies[0] < accuracies[1] <= 1.0


def test_unlogged_monitor_names_the_logged_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = trainer_with([pai_callback("pl_missing", monitor="val_f1", mode="max")], max_epochs=1)
    with pytest.raises(IntegrationError, match=r"'val_f1'.*val_acc"):
        trainer.fit(DigitsModule(), *loaders())


def test_mode_is_checked():
    with pytest.raises(ValueError, match="'min' or 'max'"):
        PAILightningCallback(mode="maximize")


def test_a_killed_fit_resumes_with_its_dendrites_trained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    first = pai_callback("pl_resume", monitor="val_acc", mode="max")
    trainer_with([first], max_epochs=2).fit(DigitsModule(), *loaders())  # stands in for a run killed early
    assert first.tracker.state.num_dendrites_added == 2 and not first.tracker.state.completed
    first.tracker.flush()

    torch.manual_seed(1)
    module, probe = DigitsModule(), ProbeCallback()
    second = pai_callback("pl_resume", monitor="val_acc", mode="max", resume=True)
    trainer = trainer_with([second, probe])
    trainer.fit(module, *loaders())
    assert second.tracker.state.completed and second.tracker.state.num_dendrites_added == 3
    assert probe.probe.checked_epochs >= 2 and probe.probe.unchanged == []  # resumed dendrites train too
    assert len(second.tracker.state.accuracies) == 4  # two epochs before the kill, two after
