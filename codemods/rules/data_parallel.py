"""PAI012: nn.DataParallel scripts hand the tracker the bare model and wrap it again after a restructure.

The tracker only takes the perforated model itself (a wrapper is refused: `model.module`), and after a
restructure the model is wrapped again before the optimizer is rebuilt, as PAI009 does for DDP. PAI003 has
already put `perforate_model` on the bare model, before the wrap.

Before (after PAI001-PAI006)::

    net = UPA.perforate_model(net, save_name="run", maximizing_score=False)
    net = nn.DataParallel(net).to(device)
    ...
        net, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, net)
        if training_complete:
            break
        elif restructured:
            optimizer = GPA.pai_tracker.setup_optimizer(net, {"params": net.parameters(), "lr": 0.05})

After::

        bare_net, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, net.module)
        if training_complete:
            break
        elif restructured:
            net = nn.DataParallel(bare_net).to(device)
            optimizer = GPA.pai_tracker.setup_optimizer(net, {"params": net.parameters(), "lr": 0.05})

A wrap behind a condition (`if torch.cuda.device_count() > 1:`, `if args.dp:`) passes `unwrap(net)`
(pai_core.distributed: the module inside a wrapper, else the model) and wraps again only what was wrapped.
On CPU, or on one GPU, DataParallel calls the model directly; on several GPUs one batch should go through the
bare model before the wrap so every perforated layer learns its output size outside the replicas (a warning
says where).
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._placement import import_anchor

_HOOKUP = m.SimpleStatementLine(body=[m.Assign(value=m.Call(func=m.Attribute(attr=m.Name("add_validation_score"))))])
_RESTRUCTURED = m.If(test=m.Name("restructured"))
_UNWRAP_IMPORT = "from pai_core.distributed import unwrap"


class RewrapDataParallel(PaiRule):
    CODE = "PAI012"
    DESCRIPTION = "DataParallel scripts: pass the bare model to the tracker and wrap it again on restructure."
    VALID = (Valid(MNIST_INTEGRATED),)
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(net, loader):
                with torch.no_grad():
                    return sum(F.mse_loss(net(x), y).item() for x, y in loader) / len(loader)


            def main(train_loader, val_loader, device):
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                net = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
                net = UPA.perforate_model(net, save_name="train_dendritic", maximizing_score=False)
                net = nn.DataParallel(net).to(device)
                GPA.pai_tracker.set_optimizer(torch.optim.SGD)
                optimizer = GPA.pai_tracker.setup_optimizer(net, {"params": net.parameters(), "lr": 0.05})
                epoch = -1
                while True:
                    epoch += 1
                    for x, y in train_loader:
                        optimizer.zero_grad()
                        F.mse_loss(net(x), y).backward()
                        optimizer.step()
                    val_loss = evaluate(net, val_loader)
                    net, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, net)
                    net.to(device)
                    if training_complete:
                        break
                    elif restructured:
                        optimizer = GPA.pai_tracker.setup_optimizer(net, {"params": net.parameters(), "lr": 0.05})
            """, expected="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(net, loader):
                with torch.no_grad():
                    return sum(F.mse_loss(net(x), y).item() for x, y in loader) / len(loader)


            def main(train_loader, val_loader, device):
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                net = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
                net = UPA.perforate_model(net, save_name="train_dendritic", maximizing_score=False)
                net = nn.DataParallel(net).to(device)
                GPA.pai_tracker.set_optimizer(torch.optim.SGD)
                optimizer = GPA.pai_tracker.setup_optimizer(net, {"params": net.parameters(), "lr": 0.05})
                epoch = -1
                while True:
                    epoch += 1
                    for x, y in train_loader:
                        optimizer.zero_grad()
                        F.mse_loss(net(x), y).backward()
                        optimizer.step()
                    val_loss = evaluate(net, val_loader)
                    bare_net, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_loss, net.module)
                    net.to(device)
                    if training_complete:
                        break
                    elif restructured:
                        net = nn.DataParallel(bare_net).to(device)
                        optimizer = GPA.pai_tracker.setup_optimizer(net, {"params": net.parameters(), "lr": 0.05})
            """),
    )

    def plan(self, tree: cst.Module) -> None:
        parallelism = self.report.parallelism
        if parallelism.kind != "DataParallel":
            raise SkipFile(f"{self.CODE}: not a DataParallel script")
        if self.package != "pai_core":
            raise self.skip("the perforatedai backend does not re-wrap DataParallel models; use the default "
                            "pai_core backend")
        wraps = [s for s in self.lines.start if isinstance(s, cst.SimpleStatementLine) and _wrap_call(s)]
        hookups = [s for s in self.lines.start if m.matches(s, _HOOKUP)]
        branches = [s for s in self.lines.start if m.matches(s, _RESTRUCTURED)]
        if len(hookups) != 1 or len(branches) != 1:
            raise self.skip("found no single add_validation_score call with its `elif restructured:` branch: pass "
                            "`model.module` to add_validation_score and wrap the model again on restructure by hand")
        if len(wraps) != 1:
            raise self.skip("the DataParallel wrap is not one plain assignment (`model = nn.DataParallel(model)`): "
                            "pass `model.module` to add_validation_score and wrap again on restructure by hand")
        wrap, hookup = wraps[0], hookups[0]
        wrapper = self.code(wrap.body[0].targets[0].target)
        call = _wrap_call(wrap)
        inner = self.code(call.args[0].value) if call.args else ""
        assign = hookup.body[0]
        model_var = self.code(assign.value.args[1].value) if len(assign.value.args) > 1 else ""
        if model_var in (f"{wrapper}.module", f"unwrap({wrapper})"):
            raise SkipFile(f"{self.CODE}: the tracker already gets the bare model")
        if model_var != wrapper:
            raise self.skip(f"the epoch loop hands `{model_var}` to the tracker, not the DataParallel wrapper "
                            f"`{wrapper}`: pass the bare model and wrap again on restructure by hand")
        bare = inner if inner.isidentifier() and inner != wrapper else f"bare_{wrapper.replace('.', '_')}"
        conditional = not parallelism.hard_coded
        taken = f"unwrap({wrapper})" if conditional else f"{wrapper}.module"
        new_value = assign.value.with_changes(args=[assign.value.args[0],
                                                    assign.value.args[1].with_changes(value=cst.parse_expression(taken))])
        targets = assign.targets[0].target
        if isinstance(targets, cst.Tuple):
            targets = targets.with_changes(elements=[targets.elements[0].with_changes(value=cst.Name(bare)),
                                                     *targets.elements[1:]])
        new_assign = assign.with_changes(targets=[assign.targets[0].with_changes(target=targets)], value=new_value)
        self.add_edit(self.lines.get(hookup), replace=lambda node: [node.with_changes(body=[new_assign])])
        rewrapped = self.code(wrap.body[0].value.deep_replace(call.args[0].value, cst.Name(bare)))
        if conditional:
            code = (f"if isinstance({wrapper}, torch.nn.DataParallel):\n"
                    f"    {wrapper} = {rewrapped}\nelse:\n    {wrapper} = {bare}\n")
        else:
            code = f"{wrapper} = {rewrapped}"
        self.add_edit(self.lines.get(branches[0].body.body[0]), before=[self.stmt(code)])
        if conditional:
            anchor, after = import_anchor(tree)
            self.add_edit(self.lines.get(anchor), **{"after" if after else "before": [self.stmt(_UNWRAP_IMPORT)]})
        self.note(f"on several GPUs run one batch through the bare model (`{bare if bare == inner else wrapper}(batch)` "
                  "under torch.no_grad()) before the DataParallel wrap, so every perforated layer learns its output "
                  "size outside the replicas; on CPU and one GPU nothing is needed",
                  next((e.line for e in parallelism.evidence if e.detail == "DataParallel"), None))


def _wrap_call(stmt: cst.SimpleStatementLine) -> cst.Call | None:
    """The `nn.DataParallel(...)` call of `x = nn.DataParallel(model, ...)[.to(device)]`, else None."""
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(
            target=m.Name() | m.Attribute())])])):
        return None
    for call in m.findall(stmt.body[0].value, m.Call()):
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        if name == "DataParallel":
            return call  # type: ignore[return-value]
    return None
