"""A Lightning `strategy="ddp"` job on 2 CPU processes (gloo), run as a user runs it: `python lightning_ddp_job.py
OUT [--spawn] [--die-after-restructure] [--resume]`. Lightning starts the second process itself; each rank saves
what it ended with to OUT/result<rank>.pt. `--spawn` asks for `ddp_spawn`, which the callback refuses with the
reason; `--die-after-restructure` kills the job at the first epoch after a restructure.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lightning as L  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from framework_support import DATA, DendriteProbe  # noqa: E402
from torch import nn  # noqa: E402

from pai_core.integrations.lightning import PAILightningCallback  # noqa: E402
from pai_core.modules import neuron_modules  # noqa: E402


class DigitsModule(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 8)
        self.fc2 = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(-1) == y).float().mean(), sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


class Probe(L.Callback):
    def __init__(self, die_after_restructure: bool):
        self.probe = DendriteProbe()
        self.die = die_after_restructure
        self.dendrites = 0

    def on_train_epoch_start(self, trainer, pl_module):
        now = max((m.num_dendrites for m in neuron_modules(pl_module)), default=0)
        if self.die and now > self.dendrites:
            os._exit(3)  # killed right after a restructure (every rank at the same point): no clean shutdown
        self.dendrites = now
        self.probe.epoch_begins(pl_module)

    def on_validation_start(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.probe.epoch_ends(pl_module)


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    torch.manual_seed(100 + int(os.environ.get("LOCAL_RANK", 0)))  # DDP's broadcast must unify the ranks
    train = torch.utils.data.TensorDataset(DATA.x_train, DATA.y_train)
    val = torch.utils.data.TensorDataset(DATA.x_val, DATA.y_val)
    pai = PAILightningCallback(monitor="val_acc", mode="max", save_name="lightning_ddp",
                               module_names_to_perforate=["Linear"], output_dimensions=[-1, 0],
                               resume="--resume" in sys.argv)
    probe = Probe("--die-after-restructure" in sys.argv)
    trainer = L.Trainer(max_epochs=40, accelerator="cpu", devices=2,
                        strategy="ddp_spawn" if "--spawn" in sys.argv else "ddp", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[pai, probe], num_sanity_val_steps=0)
    module = DigitsModule()
    trainer.fit(module, torch.utils.data.DataLoader(train, batch_size=32, shuffle=True),
                torch.utils.data.DataLoader(val, batch_size=300))
    torch.save({"weights": {k: v.detach().clone() for k, v in module.state_dict().items()},
                "state": pai.tracker.state.as_dict(), "unchanged": probe.probe.unchanged,
                "checked": probe.probe.checked_epochs}, out / f"result{trainer.global_rank}.pt")


if __name__ == "__main__":
    main()
