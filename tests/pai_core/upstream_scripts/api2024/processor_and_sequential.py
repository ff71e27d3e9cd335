"""2024 API: PBSequential for Linear+LayerNorm, multiOutputProcesser for a tuple-returning module, test scores."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import pb_globals as PBG
from perforatedai import pb_models as PBM
from perforatedai import pb_utils as PBU


class WithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(16, 16)

    def forward(self, x):
        out = self.linear(x)
        return out, out.detach().sum()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = PBG.PBSequential([nn.Linear(64, 16), nn.LayerNorm(16)])
        self.state = WithState()
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        h, _ = self.state(torch.relu(self.block(x)))
        return self.head(torch.relu(h))


digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
PBG.inputDimensions = [-1, 0]
PBG.moduleNamesToConvert = ["PAISequential", "Linear", "WithState"]
PBG.modulesWithProcessing.append(WithState)
PBG.moduleProcessingClasses.append(PBM.multiOutputProcesser)
model = PBU.initializePB(Net(), saveName="processor")
PBG.pbTracker.setOptimizer(torch.optim.Adam)
optimizer = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 0.01})
for epoch in range(100):
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        val = (model(x[1200:1500]).argmax(1) == y[1200:1500]).float().mean().item() * 100
        test = (model(x[1500:]).argmax(1) == y[1500:]).float().mean().item() * 100
    PBG.pbTracker.addTestScore(test, "Test Accuracy")
    model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(val, model)
    if trainingComplete:
        break
    if restructured:
        optimizer = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 0.01})
print("training complete", epoch)
