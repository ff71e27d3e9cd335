"""Regression MLP integrated with pai_core, but the restructure branch forgets to rebuild the optimizer."""
import torch
import torch.nn as nn
from pai_core import globals_perforatedai as GPA
from pai_core import utils_perforatedai as UPA


class Regressor(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def validation_loss(model, x, y):
    model.eval()
    with torch.no_grad():
        val_loss = nn.functional.mse_loss(model(x), y).item()
    return val_loss


def main():
    x, y = torch.randn(512, 8), torch.randn(512)
    GPA.pc.set_module_names_to_perforate(["Linear"])
    model = UPA.perforate_model(Regressor(), save_name="regressor_dendritic")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    GPA.pai_tracker.set_optimizer_instance(optimizer)

    epoch = -1
    while True:
        epoch += 1
        model.train()
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x[:400]), y[:400]).backward()
        optimizer.step()
        val_loss = validation_loss(model, x[400:], y[400:])
        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, model)
        if training_complete:
            break
        if restructured:
            print("dendrites added at epoch", epoch)
