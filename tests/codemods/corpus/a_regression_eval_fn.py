"""Tabular regression with HF Accelerate: an evaluate() helper that gathers the per-sample errors of every
process and returns the validation MSE, a per-epoch StepLR, main-process-only logging and a final checkpoint
saved from the unwrapped model (the shape of many Accelerate ports of plain PyTorch research code)."""
import argparse
import logging

import torch
from accelerate import Accelerator
from torch import nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

logging.basicConfig(level=logging.INFO, format="%(message)s")
log = logging.getLogger("regression")


class Regressor(nn.Module):
    def __init__(self, in_features, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def make_loaders(batch_size, n=512, features=10):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, features, generator=g)
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.1 * torch.randn(n, generator=g)
    split = int(0.8 * n)
    train = DataLoader(TensorDataset(x[:split], y[:split]), batch_size=batch_size, shuffle=True)
    val = DataLoader(TensorDataset(x[split:], y[split:]), batch_size=64)
    return train, val


def evaluate(model, loader, accelerator):
    model.eval()
    errors = []
    with torch.no_grad():
        for x, y in loader:
            errors.append(accelerator.gather_for_metrics((model(x) - y) ** 2))
    return torch.cat(errors).mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--save", type=str, default="regressor.pt")
    args = parser.parse_args()

    accelerator = Accelerator()
    torch.manual_seed(0)
    train_loader, val_loader = make_loaders(args.batch_size)
    model = Regressor(10, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    criterion = nn.MSELoss()

    for epoch in range(1, args.epochs + 1):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
        scheduler.step()
        val_mse = evaluate(model, val_loader, accelerator)
        if accelerator.is_main_process:
            log.info("epoch %d val_mse %.4f lr %.5f", epoch, val_mse, optimizer.param_groups[0]["lr"])

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        accelerator.save(accelerator.unwrap_model(model).state_dict(), args.save)


if __name__ == "__main__":
    main()
