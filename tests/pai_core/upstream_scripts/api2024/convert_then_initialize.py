"""Early 2024 API: convertNetwork, then pbTracker.initialize without the model, setOptimizerInstance."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import pb_globals as PBG
from perforatedai import pb_utils as PBU


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 10)
        self.fc2 = nn.Linear(10, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
PBG.inputDimensions = [-1, 0]
PBG.moduleNamesToConvert = ["Linear"]
PBG.retainAllPB = False
model = PBU.convertNetwork(Net())
PBG.pbTracker.initialize(doingPB=True, saveName="convert", maximizingScore=True, makingGraphs=True)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
PBG.pbTracker.setOptimizerInstance(optimizer)
epoch = 0
while True:
    epoch += 1
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        val = (model(x[1200:]).argmax(1) == y[1200:]).float().mean().item() * 100
    model, restructured, trainingComplete = PBG.pbTracker.addValidationScore(val, model)
    if trainingComplete:
        break
    if restructured:
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        PBG.pbTracker.setOptimizerInstance(optimizer)
print("training complete", epoch)
