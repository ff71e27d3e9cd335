"""An early-2024 script: convertNetwork then pbTracker.initialize, four-value addValidationScore, a ResNet."""
import torch
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torchvision import models

from perforatedai import pb_globals as PBG
from perforatedai import pb_models as PBM
from perforatedai import pb_utils as PBU


def test(model, val_loader, optimizer, scheduler, args):
    correct = evaluate(model, val_loader)
    #Add the new score to the tracker which may restructure the model
    model, improved, restructured, trainingComplete = PBG.pbTracker.addValidationScore(100. * correct,
    model, # .module if its a dataParallel
    args.save_name)
    model.to(args.device)
    if(restructured):
        optimArgs = {'params':model.parameters(),'lr':args.lr}
        schedArgs = {'step_size':1, 'gamma': args.gamma}
        optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, optimArgs, schedArgs)
    return model, optimizer, scheduler, trainingComplete


def main(args):
    PBG.switchMode = PBG.doingHistory # when to switch
    PBG.nodeIndex = 1
    PBG.inputDimensions = [-1, 0, -1, -1]
    PBG.nEpochsToSwitch = 10
    PBG.pEpochsToSwitch = 10  #Same as above for PB epochs
    PBG.capAtN = True
    PBG.moduleNamesToConvert.append('BasicBlock')
    model = models.resnet18(num_classes=10)
    model = PBM.ResNetPB(model)
    model = PBU.convertNetwork(model)
    #Setup a few extra parameters
    PBG.pbTracker.initialize(
        doingPB = True,
        saveName=args.save_name,
        maximizingScore=True,
        makingGraphs=True)
    model = model.to(args.device)
    PBG.pbTracker.setOptimizer(optim.Adadelta)
    PBG.pbTracker.setScheduler(StepLR)
    optimizer, scheduler = PBG.pbTracker.setupOptimizer(model, {'params': model.parameters(), 'lr': args.lr},
                                                        {'step_size': 1, 'gamma': args.gamma})
    for epoch in range(1, args.epochs + 1):
        train(model, optimizer)
        model, optimizer, scheduler, trainingComplete = test(model, args.val_loader, optimizer, scheduler, args)
        if trainingComplete:
            break
