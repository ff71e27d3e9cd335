"""CIFAR-style CNN fully integrated with perforatedai (current GPA/UPA API)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from perforatedai import globals_perforatedai as GPA
from perforatedai import utils_perforatedai as UPA
from torch.optim import SGD
from torch.optim.lr_scheduler import ReduceLROnPlateau


class SmallCNN(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.fc = nn.Linear(2 * width * 8 * 8, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def train(model, loader, optimizer, device):
    model.train()
    correct = 0
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        F.cross_entropy(output, target).backward()
        optimizer.step()
        correct += (output.argmax(1) == target).sum().item()
    return 100.0 * correct / len(loader.dataset)


def test(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            correct += (model(data).argmax(1) == target).sum().item()
    return 100.0 * correct / len(loader.dataset)


def main(train_loader, val_loader):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    GPA.pc.set_testing_dendrite_capacity(False)
    GPA.pc.set_module_names_to_perforate(["Conv2d", "Linear"])
    GPA.pc.set_output_dimensions([-1, 0, -1, -1])

    model = SmallCNN()
    model = UPA.perforate_model(model, save_name="cifar_dendritic", maximizing_score=True)
    model = model.to(device)

    GPA.pai_tracker.set_optimizer(SGD)
    GPA.pai_tracker.set_scheduler(ReduceLROnPlateau)
    optim_args = {"params": model.parameters(), "lr": 0.05, "momentum": 0.9}
    sched_args = {"mode": "max", "patience": 5}
    optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)

    epoch = -1
    while True:
        epoch += 1
        train_acc = train(model, train_loader, optimizer, device)
        val_acc = test(model, val_loader, device)
        GPA.pai_tracker.add_extra_score(train_acc, "train")
        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_acc, model)
        model = model.to(device)
        if training_complete:
            break
        elif restructured:
            optim_args = {"params": model.parameters(), "lr": 0.05, "momentum": 0.9}
            optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)
