"""An Accelerate loop that evaluates on the main process only: after each epoch the other processes go on
while process 0 scores the unwrapped model on the whole validation set (common in ports of single-GPU
research code). Synthetic 20-feature, 3-class data."""
import argparse

import torch
from accelerate import Accelerator
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 20, generator=g)
    y = (x[:, :3].argmax(1) + (x[:, 3] > 1).long()) % 3
    return TensorDataset(x, y)


@torch.no_grad()
def validate(model, loader):
    model.eval()
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return 100.0 * correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    accelerator = Accelerator()
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_loader = DataLoader(make_data(384, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(make_data(128, 1), batch_size=128)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            accelerator.backward(nn.functional.cross_entropy(model(x), y))
            optimizer.step()
        if accelerator.is_main_process:
            val_acc = validate(accelerator.unwrap_model(model), val_loader)
            print(f"epoch {epoch} val_acc {val_acc:.2f}")
        accelerator.wait_for_everyone()


if __name__ == "__main__":
    main()
