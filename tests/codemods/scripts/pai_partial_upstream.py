"""Digits MLP half-way through a perforatedai integration: config and perforate_model, nothing else yet."""
import torch
import torch.nn as nn
import torch.optim as optim
from perforatedai import globals_perforatedai as GPA
from perforatedai import utils_perforatedai as UPA
from sklearn.datasets import load_digits


class DigitsNet(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    return accuracy


def main():
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)
    x_train, y_train, x_val, y_val = x[:1400], y[:1400], x[1400:], y[1400:]

    GPA.pc.set_testing_dendrite_capacity(True)
    GPA.pc.set_module_names_to_perforate(["Linear"])
    model = DigitsNet()
    model = UPA.perforate_model(model, save_name="digits_dendritic", maximizing_score=True)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    for epoch in range(30):
        model.train()
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        val_acc = evaluate(model, x_val, y_val)
        print(epoch, val_acc)


if __name__ == "__main__":
    main()
