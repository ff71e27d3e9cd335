"""Every import form of the 2024 modules: a function, the tracker and a module imported by name."""
import torch
from pai_core import globals_perforatedai as GPA, utils_perforatedai as UPA

model = UPA.perforate_model(torch.nn.Linear(2, 2), save_name="forms", maximizing_score=True)
GPA.pai_tracker.set_optimizer(torch.optim.SGD)
block = GPA.PAISequential([torch.nn.Linear(2, 2)])
model, restructured, done = GPA.pai_tracker.add_validation_score(1.0, model)
