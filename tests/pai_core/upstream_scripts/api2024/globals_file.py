"""Oldest 2024 API: globalsFile as gf, PB-only settings that pai ignores, memberVars read by the script."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import globalsFile as gf
from perforatedai import pb_utils as PBU

digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
gf.inputDimensions = [-1, 0]
gf.moduleNamesToConvert.append("Linear")
gf.pEpochsToSwitch = 10  # Perforated Backpropagation only
gf.capAtN = True  # Perforated Backpropagation only
gf.nodeIndex = 1
model = PBU.initializePB(nn.Sequential(nn.Linear(64, 12), nn.Sigmoid(), nn.Linear(12, 10)), saveName="gf")
gf.pbTracker.setOptimizer(torch.optim.RMSprop)
optimizer = gf.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 0.005})
for epoch in range(100):
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        val = (model(x[1200:]).argmax(1) == y[1200:]).float().mean().item() * 100
    model, improved, restructured, trainingComplete = gf.pbTracker.addValidationScore(val, model, "gf")
    if trainingComplete:
        break
    if restructured:
        mode = gf.pbTracker.memberVars["mode"]
        optimizer = gf.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 0.005})
print("training complete", epoch, gf.pbTracker.memberVars["numPBNeuronLayers"])
