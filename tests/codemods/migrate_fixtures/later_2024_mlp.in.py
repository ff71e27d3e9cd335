"""A later-2024 script: initializePB with defaults, three-value addValidationScore, memberVars, processors."""
import torch
from torch import nn

import perforatedai.pb_globals as PBG
from perforatedai import pb_models as PBM
from perforatedai import pb_utils as PBU


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = PBG.PBSequential([nn.Linear(8, 8), nn.LayerNorm(8)])
        self.rnn = nn.GRU(8, 8)


PBG.moduleNamesToConvert += ["PAISequential"]
PBG.modulesWithProcessing.append(nn.GRU)
PBG.moduleProcessingClasses.extend([PBM.GRUProcessor])
PBG.testingDendriteCapacity = False
print("switching after", PBG.nEpochsToSwitch, "epochs in mode", PBG.switchMode == PBG.doingFixedSwitch)
model = PBU.initializePB(Block())
model = PBM.PAIDataParallel(model)
PBG.pbTracker.setOptimizer(torch.optim.Adam)
optimizer = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 1e-3})
while True:
    score = train_and_validate(model, optimizer)
    outputs = PBG.pbTracker.addValidationScore(score, model.module, forceSwitch=False)
    model.module, restructured, trainingComplete = outputs
    print("dendrites", PBG.pbTracker.memberVars["numPBNeuronLayers"], PBG.pbTracker.memberVars["mode"])
    if trainingComplete:
        break
    if restructured:
        model = PBM.PAIDataParallel(model.module)
        optimizer = PBG.pbTracker.setupOptimizer(model, {"params": model.parameters(), "lr": 1e-3})
print(PBU.countParams(model))
