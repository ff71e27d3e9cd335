"""An early-2024 script: convertNetwork then pbTracker.initialize, four-value addValidationScore, a ResNet."""
import torch
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torchvision import models

from perforatedai import globals_perforatedai as GPA, library_perforatedai as LPA, utils_perforatedai as UPA


def test(model, val_loader, optimizer, scheduler, args):
    correct = evaluate(model, val_loader)
    #Add the new score to the tracker which may restructure the model
    model, restructured, trainingComplete = GPA.pai_tracker.add_validation_score(100. * correct,
    model, # .module if its a dataParallel
    )
    model.to(args.device)
    if(restructured):
        optimArgs = {'params':model.parameters(),'lr':args.lr}
        schedArgs = {'step_size':1, 'gamma': args.gamma}
        optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, optimArgs, schedArgs)
    return model, optimizer, scheduler, trainingComplete


def main(args):
    GPA.pc.set_switch_mode(GPA.pc.DOING_HISTORY) # when to switch
    GPA.pc.set_node_index(1)
    GPA.pc.set_output_dimensions([-1, 0, -1, -1])
    GPA.pc.set_n_epochs_to_switch(10)
    GPA.pc.set_p_epochs_to_switch(10)  #Same as above for PB epochs
    GPA.pc.set_cap_at_n(True)
    GPA.pc.append_module_names_to_perforate(['BasicBlock'])
    model = models.resnet18(num_classes=10)
    model = LPA.ResNetPAI(model)
    model = UPA.perforate_model(model, doing_pai = True,
        save_name=args.save_name,
        maximizing_score=True,
        making_graphs=True)
    model = model.to(args.device)
    GPA.pai_tracker.set_optimizer(optim.Adadelta)
    GPA.pai_tracker.set_scheduler(StepLR)
    optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {'params': model.parameters(), 'lr': args.lr},
                                                        {'step_size': 1, 'gamma': args.gamma})
    for epoch in range(1, args.epochs + 1):
        train(model, optimizer)
        model, optimizer, scheduler, trainingComplete = test(model, args.val_loader, optimizer, scheduler, args)
        if trainingComplete:
            break
