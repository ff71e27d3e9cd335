"""Current API: a Linear+LayerNorm block in PAISequential and a tuple-returning module with a processor."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import globals_perforatedai as GPA
from perforatedai import library_perforatedai as LPA
from perforatedai import utils_perforatedai as UPA


class TwoOutputs(nn.Module):
    """Returns (features, a side value) like many research modules."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(16, 16)

    def forward(self, x):
        out = self.linear(x)
        return out, out.detach().abs().mean()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = GPA.PAISequential([nn.Linear(64, 16), nn.LayerNorm(16)])
        self.two = TwoOutputs()
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        h, _ = self.two(torch.relu(self.block(x)))
        return self.head(torch.relu(h))


digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
GPA.pc.set_module_names_to_perforate(["PAISequential", "Linear", "TwoOutputs"])
GPA.pc.append_modules_with_processing([TwoOutputs])
GPA.pc.append_modules_processing_classes([LPA.MultiOutputProcessor])
GPA.pc.set_output_dimensions([-1, 0])
model = UPA.perforate_model(Net(), save_name="sequential", maximizing_score=True)
GPA.pai_tracker.set_optimizer(torch.optim.Adam)
optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
for epoch in range(50):
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        score = (model(x[1200:]).argmax(1) == y[1200:]).float().mean().item() * 100
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)
    if training_complete:
        break
    if restructured:
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
print("training complete", epoch)
