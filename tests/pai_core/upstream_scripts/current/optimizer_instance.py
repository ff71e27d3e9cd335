"""Current API: a hand-built optimizer registered with set_optimizer_instance, option reads, manual timing."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import globals_perforatedai as GPA
from perforatedai import utils_perforatedai as UPA


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 12)
        self.fc2 = nn.Linear(12, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
GPA.pc.set_module_names_to_perforate(["Linear"])
GPA.pc.set_output_dimensions([-1, 0])
GPA.pc.set_p_epochs_to_switch(10)  # a Perforated Backpropagation setting: accepted, stored, ignored
print("max dendrites", GPA.pc.max_dendrites, "switch mode", GPA.pc.switch_mode)
model = UPA.perforate_model(Net(), save_name="instance", maximizing_score=True)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
GPA.pai_tracker.set_optimizer_instance(optimizer)
epoch = 0
while True:
    epoch += 1
    GPA.pai_tracker.start_epoch()
    for i in range(0, 1200, 50):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 50]), y[i:i + 50]).backward()
        optimizer.step()
    GPA.pai_tracker.stop_epoch()
    with torch.no_grad():
        score = (model(x[1200:]).argmax(1) == y[1200:]).float().mean().item() * 100
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)
    if training_complete:
        break
    if restructured:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        GPA.pai_tracker.set_optimizer_instance(optimizer)
print("training complete", epoch, GPA.pai_tracker.member_vars["num_dendrites_added"])
