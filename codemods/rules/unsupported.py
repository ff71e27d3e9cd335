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

from codemods.rules._base import PaiRule, refusal_reason


class RefuseUnsupportedSetups(PaiRule):
    CODE = "PAI008"
    DESCRIPTION = "Refuse DataParallel/FSDP/Fabric/sharded-framework scripts with the reason and the manual steps."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.context = _ctx(self, tree)
        reason = refusal_reason(self.report, loop=True)
        if reason:
            line = None
            evidence = list(self.report.parallelism.evidence) or list(self.report.training_library.evidence)
            if evidence:
                line = evidence[0].line
            self.note(reason.removeprefix(f"{self.CODE}: "), line, skip=True)
            raise SkipFile(reason)
        raise SkipFile(f"{self.CODE}: nothing to refuse")

    def plan(self, tree: cst.Module) -> None:  # pragma: no cover - transform_module_impl decides
        pass


def _ctx(rule: PaiRule, tree: cst.Module):
    from codemods.rules._base import _with_module

    return _with_module(rule.context, tree)
