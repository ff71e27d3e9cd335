"""PAI008: refuse, with the reason and the manual steps, scripts whose training the rules cannot rewrite safely.

Sharded data parallelism (FSDP, DeepSpeed, an Accelerator with a sharding plugin), a DDP wrapper
built around an unnamed model, torch.distributed without DDP, Lightning Fabric and HF Trainer / Lightning runs
that shard the model (DeepSpeed, FSDP) each need a different integration (unwrapping for the tracker,
parameters that cannot grow in place). Rather than half-convert such a script, every rule skips it and this rule
reports why and what to do by hand. It never changes code. (Plain DDP scripts are integrated, PAI009 re-wraps
on restructure; nn.DataParallel by PAI012, Accelerate loops by PAI013; plain HF Trainer and Lightning Trainer
scripts by PAI010 / PAI011.)
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import SkipFile

from codemods.examples import MNIST, Invalid, Valid
from codemods.rules._base import PaiRule, refusal_reason


class RefuseUnsupportedSetups(PaiRule):
    CODE = "PAI008"
    DESCRIPTION = "Refuse FSDP/DeepSpeed/Fabric/sharded-framework scripts with the reason and the manual steps."
    VALID = (Valid(MNIST),)
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP


            def evaluate(model, loader):
                return sum(nn.functional.cross_entropy(model(x), y).item() for x, y in loader) / len(loader)


            def main(train_loader, val_loader):
                torch.distributed.init_process_group("nccl")
                model = FSDP(nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).cuda())
                optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
                for epoch in range(10):
                    for x, y in train_loader:
                        optimizer.zero_grad()
                        nn.functional.cross_entropy(model(x), y).backward()
                        optimizer.step()
                    val_loss = evaluate(model, val_loader)
            """, expected=None),
        Invalid("""
            import lightning as L
            import torch
            import torch.nn as nn

            fabric = L.Fabric(accelerator="cpu")
            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            model, optimizer = fabric.setup(model, optimizer)
            """, expected=None),
    )

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.context = _ctx(self, tree)
        reason = refusal_reason(self.report, loop=True)
        if reason:
            line = None
            evidence = list(self.report.parallelism.evidence) or list(self.report.training_library.evidence)
            if evidence:
                line = evidence[0].line
            self.note(reason.removeprefix(f"{self.CODE}: "), line, severity="error")
            raise SkipFile(reason)
        raise SkipFile(f"{self.CODE}: nothing to refuse")

    def plan(self, tree: cst.Module) -> None:  # pragma: no cover - transform_module_impl decides
        pass


def _ctx(rule: PaiRule, tree: cst.Module):
    from codemods.rules._base import _with_module

    return _with_module(rule.context, tree)
