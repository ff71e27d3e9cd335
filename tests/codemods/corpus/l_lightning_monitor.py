"""LightningModule logging val_acc in validation_step; ModelCheckpoint(monitor='val_acc', mode='max')."""
import argparse

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class LitClassifier(L.LightningModule):
    def __init__(self, hidden=16, lr=1e-2):
        super().__init__()
        self.save_hyperparameters()
        self.l1 = nn.Linear(12, hidden)
        self.l2 = nn.Linear(hidden, 3)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def on_validation_epoch_end(self):
        print(f"epoch {self.current_epoch} val_acc {float(self.trainer.callback_metrics['val_acc']):.6f}")

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def loaders():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 12, generator=g)
    y = x[:, :3].argmax(1)
    return (DataLoader(TensorDataset(x[:320], y[:320]), batch_size=32, shuffle=True),
            DataLoader(TensorDataset(x[320:], y[320:]), batch_size=80))


def cli_main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    L.seed_everything(0)
    train_loader, val_loader = loaders()
    checkpoint = ModelCheckpoint(dirpath="checkpoints", monitor="val_acc", mode="max")
    trainer = L.Trainer(max_epochs=args.max_epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
                        num_sanity_val_steps=0, callbacks=[checkpoint])
    trainer.fit(LitClassifier(), train_loader, val_loader)


if __name__ == "__main__":
    cli_main()
