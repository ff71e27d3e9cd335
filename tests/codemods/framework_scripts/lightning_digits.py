"""Digits classification with Lightning: the input of the PAI011 end-to-end test."""
import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from pai_core.datasets import load_digits_splits


class LitDigits(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = load_digits_splits()
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data.x_train, data.y_train), batch_size=64)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data.x_val, data.y_val), batch_size=300)
    model = LitDigits()
    checkpoint = ModelCheckpoint(dirpath="checkpoints", monitor="val_acc", mode="max")
    trainer = L.Trainer(max_epochs=20, accelerator="cpu", logger=False, enable_progress_bar=False,
                        callbacks=[checkpoint])
    trainer.fit(model, train, val)


if __name__ == "__main__":
    main()
