"""LightningCLI entry point (the Lightning docs' cli_main shape): the model and data module classes are given
to LightningCLI, which parses the command line (`fit --trainer.max_epochs=...`) and runs the Trainer."""
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch.cli import LightningCLI
from torch.utils.data import DataLoader, TensorDataset


class DemoModel(L.LightningModule):
    def __init__(self, hidden: int = 32, lr: float = 0.01):
        super().__init__()
        self.save_hyperparameters()
        self.layer1 = nn.Linear(16, hidden)
        self.layer2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.layer2(F.relu(self.layer1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class DemoData(L.LightningDataModule):
    def __init__(self, batch_size: int = 32):
        super().__init__()
        self.batch_size = batch_size

    def setup(self, stage=None):
        x = torch.randn(256, 16)
        y = (x[:, 0] > 0).long()
        self.train_set, self.val_set = TensorDataset(x[:192], y[:192]), TensorDataset(x[192:], y[192:])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=64)


def cli_main():
    LightningCLI(DemoModel, DemoData, trainer_defaults={"max_epochs": 10, "logger": False,
                                                        "enable_progress_bar": False})


if __name__ == "__main__":
    cli_main()
