"""Current API (mid-2025 names): initialize_pai, a loss minimised, ReduceLROnPlateau stepped by the tracker."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from perforatedai import globals_perforatedai as GPA
from perforatedai import utils_perforatedai as UPA

digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
GPA.pc.set_module_names_to_convert(["Linear"])
GPA.pc.set_input_dimensions([-1, 0])
GPA.pc.set_dashboard_url("")  # a dashboard setting: accepted, stored, ignored
model = UPA.initialize_pai(nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10)), save_name="loss",
                           maximizing_score=False)
GPA.pai_tracker.set_optimizer(torch.optim.AdamW)
GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.ReduceLROnPlateau)
optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01},
                                                       {"mode": "min", "patience": 2})
for epoch in range(50):
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
        optimizer.step()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(x[1200:]), y[1200:])
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, model)
    if training_complete:
        break
    if restructured:
        optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01},
                                                               {"mode": "min", "patience": 2})
print("training complete", epoch)
