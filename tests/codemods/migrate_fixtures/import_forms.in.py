"""Every import form of the 2024 modules: a function, the tracker and a module imported by name."""
import torch
from pai_core.pb_utils import initializePB
from pai_core.pb_globals import pbTracker
import pai_core.pb_models

model = initializePB(torch.nn.Linear(2, 2), saveName="forms")
pbTracker.setOptimizer(torch.optim.SGD)
block = pai_core.pb_models.PBSequential([torch.nn.Linear(2, 2)])
model, restructured, done = pbTracker.addValidationScore(1.0, model)
