"""One rank of a real DDP job on CPU (gloo, loopback), started by test_distributed with torch.multiprocessing.

Written like a user's script: perforate, wrap in DDP, train on a DistributedSampler shard, validate on this
rank's shard, call add_validation_score on every rank, re-wrap on restructure. Each rank runs in its own working
directory (like nodes without a shared file system) and saves what it ended with to <root>/result<rank>.pt.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from test_training_support import DATA, Net, run_config
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

SAVE_NAME = "ddp_run"


def run(rank: int, world_size: int, init_method: str, root: str, options: dict) -> None:
    torch.set_num_threads(1)
    workdir = Path(root) / f"rank{rank}"
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=60))
    _train(rank, world_size, Path(root), options)
    dist.barrier()
    dist.destroy_process_group()
    # torch 2.13's gloo worker threads can free the last collectives' tensors during interpreter
    # finalisation and abort the process (std::terminate); everything is on disk, so leave without it.
    os._exit(0)


def _train(rank: int, world_size: int, root: Path, options: dict) -> None:
    from pai_core import globals_perforatedai as GPA
    from pai_core.distributed import refresh_wrappers, rewrap_ddp
    from pai_core.perforate import perforate_model

    config = run_config(switch_mode=2, fixed_switch_num=3, max_dendrites=1, max_dendrite_tries=2,
                        **options.get("config", {}))
    torch.manual_seed(100 + rank)  # a different initialisation on every rank: DDP's broadcast must unify them
    model = perforate_model(Net(8), save_name=SAVE_NAME, maximizing_score=True, config=config,
                            resume=bool(options.get("resume")))
    start_epoch = GPA.pai_tracker.state.num_epochs_run
    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)  # stepped by the tracker on every rank

    def make_optimizer(params):
        return GPA.pai_tracker.setup_optimizer(model, {"params": params, "lr": 0.01}, {"step_size": 2, "gamma": 0.7})

    ddp_model, (optimizer, _) = rewrap_ddp(model, make_optimizer)

    train_set = TensorDataset(DATA.x_train, DATA.y_train)
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=50, sampler=sampler)
    x_val, y_val = DATA.x_val[rank::world_size], DATA.y_val[rank::world_size]  # this rank's validation shard

    events, restructures, errors = [], 0, []
    for epoch in range(1, 80):
        sampler.set_epoch(epoch)
        ddp_model.train()
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(ddp_model(x), y).backward()
            optimizer.step()
        with torch.no_grad():
            ddp_model.eval()
            local_accuracy = (ddp_model.module(x_val).argmax(1) == y_val).float().mean().item() * 100
        if options.get("probe_errors") and epoch == 1:  # a bad score on rank 1 only: both ranks must raise
            errors.append(_error_of(GPA.pai_tracker.add_validation_score,
                                    {"accuracy": local_accuracy} if rank == 1 else local_accuracy, ddp_model))
        if options.get("in_place"):  # as the framework callbacks do: the bare model in, the same wrapper kept
            bare, restructured, complete = GPA.pai_tracker.add_validation_score(local_accuracy, ddp_model.module)
        else:
            ddp_model, restructured, complete = GPA.pai_tracker.add_validation_score(local_accuracy, ddp_model)
        events.append((epoch, local_accuracy, bool(restructured), bool(complete)))
        if complete:
            break
        if restructured:
            restructures += 1
            if options.get("probe_errors") and restructures == 1:  # the old wrapper no longer syncs dendrites
                errors.append(_error_of(GPA.pai_tracker.add_validation_score, local_accuracy, ddp_model))
            if options.get("in_place"):
                assert refresh_wrappers(bare) == 1
                optimizer, _ = make_optimizer([p for p in bare.parameters() if p.requires_grad])
            else:
                ddp_model, (optimizer, _) = rewrap_ddp(ddp_model, make_optimizer)
        elif restructures and options.get("exit_early_after_restructure"):
            os._exit(0)  # as if the job were killed: no flush, no atexit, no clean shutdown

    tracker = GPA.pai_tracker
    weights = {k: v.clone() for k, v in ddp_model.module.state_dict().items()}
    if options.get("probe_errors"):  # replicas that drifted apart are refused on every rank
        if rank == 1:
            with torch.no_grad():
                next(ddp_model.module.parameters()).add_(1.0)
        errors.append(_error_of(GPA.pai_tracker.add_validation_score, 50.0, ddp_model.module))
    torch.save({"weights": weights, "errors": errors, "lr": optimizer.param_groups[0]["lr"],
                "events": events, "state": tracker.state.as_dict(), "start_epoch": start_epoch,
                "dendrites": [m.num_dendrites for m in _neuron_modules(ddp_model.module)]},
               root / f"result{rank}.pt")


def _error_of(call, *args) -> str | None:
    from pai_core.errors import PAIError

    try:
        call(*args)
    except PAIError as exc:
        return type(exc).__name__
    return None


def _neuron_modules(model):
    from pai_core.modules import neuron_modules

    return neuron_modules(model)
