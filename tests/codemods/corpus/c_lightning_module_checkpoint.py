"""A LightningModule with training_step / validation_step logging val_acc, configure_optimizers returning
Adam + StepLR, ModelCheckpoint on val_acc (mode max), LightningDataModule with synthetic tensors."""
import argparse

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset


class LitClassifier(L.LightningModule):
    def __init__(self, lr=1e-2):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)]


class BlobData(L.LightningDataModule):
    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        y = torch.randint(0, 3, (384,), generator=g)
        x = torch.randn(384, 20, generator=g)
        x[:, :3] += 2.0 * F.one_hot(y, 3)
        self.train_set, self.val_set = TensorDataset(x[:288], y[:288]), TensorDataset(x[288:], y[288:])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=32, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=96)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=20)
    args = parser.parse_args()
    L.seed_everything(0)
    model = LitClassifier()
    checkpoint = ModelCheckpoint(monitor="val_acc", mode="max")
    trainer = L.Trainer(max_epochs=args.max_epochs, accelerator="cpu", devices=1, callbacks=[checkpoint],
                        logger=False, enable_progress_bar=False)
    trainer.fit(model, datamodule=BlobData())


if __name__ == "__main__":
    main()
