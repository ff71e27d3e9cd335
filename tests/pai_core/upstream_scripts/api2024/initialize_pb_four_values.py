"""2024 API: module-attribute config, initializePB, setupOptimizer, the four-value addValidationScore."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.optim.lr_scheduler import StepLR

from perforatedai import pb_globals as PBG
from perforatedai import pb_models as PBM  # noqa: F401
from perforatedai import pb_utils as PBU

digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
PBG.switchMode = PBG.doingHistory
PBG.nEpochsToSwitch = 10
PBG.inputDimensions = [-1, 0]
PBG.testingDendriteCapacity = True
PBG.moduleNamesToConvert.append("Linear")
model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
model = PBU.initializePB(model, doingPB=True, saveName="pb4", maximizingScore=True)
PBG.pbTracker.setOptimizer(torch.optim.Adam)
PBG.pbTracker.setScheduler(StepLR)
optimArgs = {"params": model.parameters(), "lr": 0.01}
schedArgs = {"step_size": 1, "gamma": 0.9}
optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, optimArgs, schedArgs)
for epoch in range(1, 100):
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        train = (model(x[:1200]).argmax(1) == y[:1200]).float().mean() * 100
        val = (model(x[1200:]).argmax(1) == y[1200:]).float().mean() * 100
    PBG.pbTracker.addExtraScore(train, "train")
    model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(val, model, "pb4")
    if trainingComplete:
        break
    elif restructured:
        optimArgs = {"params": model.parameters(), "lr": 0.01}
        optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, optimArgs, schedArgs)
print("training complete", epoch)
