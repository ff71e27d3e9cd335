"""PAI009: DistributedDataParallel scripts re-wrap the model in DDP when the tracker restructures it.

Under torch.distributed every rank calls add_validation_score with its own (or an all-reduced) score; pai_core
averages the ranks' scores, rank 0 decides and every rank follows, so the loop the other rules write is already
rank-safe. What a DDP script needs in addition: after `restructured` the old wrapper does not know the new dendrite
parameters, so it is wrapped again (same DDP settings) before the optimizer is rebuilt.

Before (after PAI001-PAI006)::

    model = UPA.perforate_model(model, save_name="run", maximizing_score=True)
    ddp_model = DDP(model, device_ids=[local_rank])
    ...
        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
        if training_complete:
            break
        elif restructured:
            optimizer = GPA.pai_tracker.setup_optimizer(ddp_model, {"params": ddp_model.parameters(), "lr": lr})

After::

    from pai_core.distributed import wrap_ddp
    ...
        elif restructured:
            ddp_model = wrap_ddp(ddp_model)
            optimizer = GPA.pai_tracker.setup_optimizer(ddp_model, {"params": ddp_model.parameters(), "lr": lr})

A wrap behind a condition (`if args.distributed:`) gets `if isinstance(ddp_model, DistributedDataParallel):`.
Rank-0-only prints and saves are left as they are. Scripts whose DDP wrapper cannot be re-applied this way
(the model is built inside the DDP call) and DataParallel scripts are refused by PAI008 with a plan.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._placement import import_anchor

_RESTRUCTURED = m.If(test=m.Name("restructured"))
_HELPER_IMPORT = "from pai_core.distributed import wrap_ddp"


class RewrapDistributedModel(PaiRule):
    CODE = "PAI009"
    DESCRIPTION = "DDP scripts: wrap the model in DDP again (same settings) when the tracker restructures it."
    VALID = (Valid(MNIST_INTEGRATED),)
    INVALID = (
        Invalid("""
            import torch
            import torch.distributed as dist
            import torch.nn as nn
            import torch.nn.functional as F
            from torch.nn.parallel import DistributedDataParallel as DDP
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(model, loader):
                correct = torch.zeros(())
                with torch.no_grad():
                    for data, target in loader:
                        correct += (model(data).argmax(1) == target).sum()
                dist.all_reduce(correct)
                return correct.item() / (len(loader.dataset) * dist.get_world_size())


            def main(train_loader, val_loader):
                dist.init_process_group("gloo")
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                ddp_model = DDP(model)
                GPA.pai_tracker.set_optimizer(torch.optim.Adam)
                optimizer = GPA.pai_tracker.setup_optimizer(ddp_model, {"params": ddp_model.parameters(), "lr": 0.01})
                epoch = -1
                while True:
                    epoch += 1
                    for data, target in train_loader:
                        optimizer.zero_grad()
                        F.cross_entropy(ddp_model(data), target).backward()
                        optimizer.step()
                    accuracy = evaluate(ddp_model, val_loader)
                    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
                    if training_complete:
                        break
                    elif restructured:
                        optimizer = GPA.pai_tracker.setup_optimizer(ddp_model, {"params": ddp_model.parameters(), "lr": 0.01})
            """, expected="""
            import torch
            import torch.distributed as dist
            import torch.nn as nn
            import torch.nn.functional as F
            from torch.nn.parallel import DistributedDataParallel as DDP
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA
            from pai_core.distributed import wrap_ddp


            def evaluate(model, loader):
                correct = torch.zeros(())
                with torch.no_grad():
                    for data, target in loader:
                        correct += (model(data).argmax(1) == target).sum()
                dist.all_reduce(correct)
                return correct.item() / (len(loader.dataset) * dist.get_world_size())


            def main(train_loader, val_loader):
                dist.init_process_group("gloo")
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                ddp_model = DDP(model)
                GPA.pai_tracker.set_optimizer(torch.optim.Adam)
                optimizer = GPA.pai_tracker.setup_optimizer(ddp_model, {"params": ddp_model.parameters(), "lr": 0.01})
                epoch = -1
                while True:
                    epoch += 1
                    for data, target in train_loader:
                        optimizer.zero_grad()
                        F.cross_entropy(ddp_model(data), target).backward()
                        optimizer.step()
                    accuracy = evaluate(ddp_model, val_loader)
                    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
                    if training_complete:
                        break
                    elif restructured:
                        ddp_model = wrap_ddp(ddp_model)
                        optimizer = GPA.pai_tracker.setup_optimizer(ddp_model, {"params": ddp_model.parameters(), "lr": 0.01})
            """),
    )

    def plan(self, tree: cst.Module) -> None:
        parallelism = self.report.parallelism
        if "DistributedDataParallel" not in (parallelism.kinds or [parallelism.kind]):
            raise SkipFile(f"{self.CODE}: not a DistributedDataParallel script")
        if self.package != "pai_core":
            raise self.skip("the perforatedai backend has no DDP support (restart the job at every restructure, "
                            "see the pai-distributed skill); use the default pai_core backend for DDP")
        if self.integrated("wrap_ddp", "rewrap_ddp"):  # resolved calls: a comment naming wrap_ddp is not one
            raise SkipFile(f"{self.CODE}: the script already re-wraps its DDP model")
        target = self._wrapper_name(parallelism)
        branches = [s for s in self.lines.start if m.matches(s, _RESTRUCTURED)]
        if len(branches) != 1:
            raise self.skip("found no single `if restructured:` branch to re-wrap the DDP model in; after "
                            f"add_validation_score add `{target} = wrap_ddp({target})` before rebuilding the optimizer")
        body = branches[0].body.body
        if parallelism.hard_coded:
            rewrap = [self.stmt(f"{target} = wrap_ddp({target})")]
        else:  # the script wraps only when distributed: re-wrap only what was wrapped
            rewrap = [self.stmt(f"if isinstance({target}, torch.nn.parallel.DistributedDataParallel):\n"
                                f"    {target} = wrap_ddp({target})\n")]
        self.add_edit(self.lines.get(body[0]), before=rewrap)
        self._import_helper(tree)

    def _wrapper_name(self, parallelism) -> str:
        names = []
        for evidence in parallelism.evidence:
            if evidence.detail != "DistributedDataParallel":
                continue
            stmt = self.statement_at(self.now(evidence.line))
            assign = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
            if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and \
                    isinstance(assign.targets[0].target, cst.Name):
                names.append(assign.targets[0].target.value)
        names = list(dict.fromkeys(names))
        if len(names) != 1:
            raise self.skip("the DDP wrapper is not assigned to one plain name (`ddp_model = DDP(model, ...)`); "
                            "after a restructure wrap the model again with pai_core.distributed.wrap_ddp by hand")
        return names[0]

    def _import_helper(self, tree: cst.Module) -> None:
        anchor, after = import_anchor(tree)
        self.add_edit(self.lines.get(anchor), **{"after" if after else "before": [self.stmt(_HELPER_IMPORT)]})
