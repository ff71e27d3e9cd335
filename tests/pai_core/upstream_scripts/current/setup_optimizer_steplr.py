"""Current API: the tracker builds optimizer and StepLR, extra and test scores, graphs saved at the end."""
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.optim.lr_scheduler import StepLR

from perforatedai import globals_perforatedai as GPA
from perforatedai import utils_perforatedai as UPA

digits = load_digits()
x = torch.tensor(digits.data, dtype=torch.float32) / 16
y = torch.tensor(digits.target)
x_train, y_train, x_val, y_val = x[:1200], y[:1200], x[1200:], y[1200:]

GPA.pc.set_testing_dendrite_capacity(True)
GPA.pc.set_module_names_to_perforate(["Linear"])
GPA.pc.set_output_dimensions([-1, 0])
model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
model = UPA.perforate_model(model, save_name="steplr", maximizing_score=True)
GPA.pai_tracker.set_optimizer(torch.optim.Adam)
GPA.pai_tracker.set_scheduler(StepLR)
optim_args = {"params": model.parameters(), "lr": 0.01}
sched_args = {"step_size": 1, "gamma": 0.9}
optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)
for epoch in range(100):
    model.train()
    for i in range(0, 1200, 100):
        optimizer.zero_grad()
        F.cross_entropy(model(x_train[i:i + 100]), y_train[i:i + 100]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        train_acc = (model(x_train).argmax(1) == y_train).float().mean() * 100
        val_acc = (model(x_val).argmax(1) == y_val).float().mean() * 100
    GPA.pai_tracker.add_extra_score(train_acc, "Train Accuracy")
    GPA.pai_tracker.add_test_score(val_acc, "Test Accuracy")
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_acc, model)
    if training_complete:
        break
    if restructured:
        optim_args = {"params": model.parameters(), "lr": 0.01}
        optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optim_args, sched_args)
GPA.pai_tracker.save_graphs()
print("training complete", epoch)
