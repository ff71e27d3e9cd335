"""2024 API: a loss minimised, saveSystem / loadSystem to resume, countParams."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import pb_globals as PBG
from perforatedai import pb_utils as PBU


def make():
    return nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))


def run(model, epochs):
    PBG.pbTracker.setOptimizer(torch.optim.Adam)
    optimizer = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 0.01})
    for epoch in range(epochs):
        for i in range(0, 1200, 100):
            optimizer.zero_grad()
            F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
            optimizer.step()
        with torch.no_grad():
            loss = F.cross_entropy(model(x[1200:]), y[1200:]).item()
        model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(loss, model, "resume")
        if trainingComplete:
            return model, True
        if restructured:
            optimizer = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 0.01})
    return model, False


digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
PBG.inputDimensions = [-1, 0]
PBG.moduleNamesToConvert = ["Linear"]
model = PBU.initializePB(make(), saveName="resume", maximizingScore=False)
model, done = run(model, 2)
PBU.saveSystem(model, "resume", "manual")
model = PBU.initializePB(make(), saveName="resume", maximizingScore=False)
model = PBU.loadSystem(model, "resume", "latest", True)
model, done = run(model, 100)
print("training complete", done, PBU.countParams(model), "parameters")
