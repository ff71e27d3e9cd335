"""A later-2024 script: initializePB with defaults, three-value addValidationScore, memberVars, processors."""
import torch
from torch import nn
from perforatedai import globals_perforatedai as GPA, library_perforatedai as LPA, utils_perforatedai as UPA
import torch.nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = GPA.PAISequential([nn.Linear(8, 8), nn.LayerNorm(8)])
        self.rnn = nn.GRU(8, 8)


GPA.pc.append_module_names_to_perforate(["PAISequential"])
GPA.pc.append_modules_with_processing([nn.GRU])
GPA.pc.append_modules_processing_classes([LPA.GRUProcessor])
GPA.pc.set_testing_dendrite_capacity(False)
print("switching after", GPA.pc.get_n_epochs_to_switch(), "epochs in mode", GPA.pc.get_switch_mode() == GPA.pc.DOING_FIXED_SWITCH)
model = UPA.perforate_model(Block(), save_name="PB", maximizing_score=True)
model = torch.nn.DataParallel(model)
GPA.pai_tracker.set_optimizer(torch.optim.Adam)
optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1e-3})
while True:
    score = train_and_validate(model, optimizer)
    outputs = GPA.pai_tracker.add_validation_score(score, model.module, force_switch=False)
    model.module, restructured, trainingComplete = outputs
    print("dendrites", GPA.pai_tracker.member_vars["num_dendrites_added"], GPA.pai_tracker.member_vars["mode"])
    if trainingComplete:
        break
    if restructured:
        model = torch.nn.DataParallel(model.module)
        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1e-3})
print(UPA.count_params(model))
