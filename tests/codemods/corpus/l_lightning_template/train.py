"""Lightning project template entry point: the module and the net come from src/, the Trainer is built here."""
import argparse

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset

from src.models.mnist_module import MNISTLitModule, SimpleDenseNet


def datamodule(batch_size):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(480, 16, generator=g)
    y = (x[:, :4] * 2).argmax(1)
    return (DataLoader(TensorDataset(x[:400], y[:400]), batch_size=batch_size, shuffle=True),
            DataLoader(TensorDataset(x[400:], y[400:]), batch_size=80))


def train(args):
    L.seed_everything(42)
    train_loader, val_loader = datamodule(args.batch_size)
    model = MNISTLitModule(net=SimpleDenseNet())
    callbacks = [ModelCheckpoint(dirpath="ckpt", monitor="val/acc", mode="max"),
                 EarlyStopping(monitor="val/acc", mode="max", patience=10)]
    trainer = L.Trainer(max_epochs=args.max_epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
                        num_sanity_val_steps=0, callbacks=callbacks)
    trainer.fit(model=model, train_dataloaders=train_loader, val_dataloaders=val_loader)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=32)
    torch.set_num_threads(1)
    train(parser.parse_args())
