"""An old PB-era integration (pb_globals / pb_utils, camelCase API)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from perforatedai import pb_globals as PBG
from perforatedai import pb_models as PBM
from perforatedai import pb_utils as PBU

PBG.switchMode = PBG.doingHistory
PBG.nEpochsToSwitch = 10
PBG.testingDendriteCapacity = False
PBG.inputDimensions = [-1, 0, -1, -1]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.fc1 = nn.Linear(5408, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.log_softmax(self.fc1(torch.flatten(x, 1)), dim=1)


def test(model, device, test_loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data.to(device))
            correct += output.argmax(dim=1).eq(target.to(device)).sum().item()
    return 100. * correct / len(test_loader.dataset)


def main(train_loader, test_loader, device):
    model = Net().to(device)
    model = PBU.initializePB(model)
    PBG.pbTracker.setOptimizer(optim.Adadelta)
    PBG.pbTracker.setScheduler(optim.lr_scheduler.StepLR)
    optimArgs = {'params': model.parameters(), 'lr': 1.0}
    schedArgs = {'step_size': 1, 'gamma': 0.7}
    optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, optimArgs, schedArgs)
    epoch = 0
    while True:
        epoch += 1
        model.train()
        for data, target in train_loader:
            optimizer.zero_grad()
            F.nll_loss(model(data.to(device)), target.to(device)).backward()
            optimizer.step()
        acc = test(model, device, test_loader)
        model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(acc, model)
        model.to(device)
        if trainingComplete:
            break
        elif restructured:
            optimArgs = {'params': model.parameters(), 'lr': 1.0}
            optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, optimArgs, schedArgs)
