"""PAI013: HF Accelerate loops hand the tracker the unwrapped model and `prepare` again after a restructure.

`accelerator.prepare(model, ...)` returns a wrapper (DDP under `accelerate launch`, the model itself on one
device). The tracker takes `accelerator.unwrap_model(model)` on every process: under several processes pai_core
averages their scores, rank 0 decides and broadcasts, so each process gets the same `restructured` /
`training_complete`. After a restructure the wrapper does not know the new dendrite parameters and the
prepared optimizer holds the old ones, so the model and the rebuilt optimizer (and scheduler) go through
`prepare` again, once every process is there. PAI001-PAI006 already perforated the model before `prepare`,
registered the optimizer and wrote the loop.

Before (after PAI001-PAI006)::

    model, optimizer, train_dl, eval_dl, lr_scheduler = accelerator.prepare(model, optimizer, train_dl, eval_dl,
                                                                            lr_scheduler)
    ...
        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
        if training_complete:
            break
        elif restructured:
            optimizer = AdamW(params=model.parameters(), lr=lr)
            lr_scheduler = get_linear_schedule_with_warmup(optimizer=optimizer, ...)
            GPA.pai_tracker.set_optimizer_instance(optimizer)

After::

        unwrapped_model, restructured, training_complete = GPA.pai_tracker.add_validation_score(
            accuracy, accelerator.unwrap_model(model))
        if training_complete:
            break
        elif restructured:
            model = unwrapped_model
            optimizer = AdamW(params=model.parameters(), lr=lr)
            lr_scheduler = get_linear_schedule_with_warmup(optimizer=optimizer, ...)
            GPA.pai_tracker.set_optimizer_instance(optimizer)
            accelerator.wait_for_everyone()
            model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)

Data loaders keep their first preparation. Scripts whose Accelerator shards the model (DeepSpeed, FSDP,
Megatron-LM plugins) are refused by PAI008 with a plan.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import PaiRule

_HOOKUP = m.SimpleStatementLine(body=[m.Assign(
    targets=[m.AssignTarget(target=m.Tuple(elements=[m.Element(), m.Element(), m.Element()]))],
    value=m.Call(func=m.Attribute(attr=m.Name("add_validation_score"))))])
_RESTRUCTURED = m.If(test=m.Name("restructured"))


class PrepareAgainWithAccelerate(PaiRule):
    CODE = "PAI013"
    DESCRIPTION = "Accelerate loops: the unwrapped model to the tracker, prepare again on restructure."
    VALID = (Valid(MNIST_INTEGRATED),)
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from accelerate import Accelerator
            from torch.optim import AdamW
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(model, loader, accelerator):
                correct = total = 0
                for batch in loader:
                    with torch.no_grad():
                        predictions = model(batch["x"]).argmax(-1)
                    predictions, labels = accelerator.gather_for_metrics((predictions, batch["y"]))
                    correct += (predictions == labels).sum().item()
                    total += len(labels)
                return correct / total


            def main(train_dl, eval_dl):
                accelerator = Accelerator()
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 2))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                GPA.pai_tracker.set_optimizer(AdamW)
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 2e-5})
                model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)
                epoch = -1
                while True:
                    epoch += 1
                    model.train()
                    for batch in train_dl:
                        loss = F.cross_entropy(model(batch["x"]), batch["y"])
                        accelerator.backward(loss)
                        optimizer.step()
                        optimizer.zero_grad()
                    accuracy = evaluate(model, eval_dl, accelerator)
                    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
                    if training_complete:
                        break
                    elif restructured:
                        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 2e-5})
            """, expected="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from accelerate import Accelerator
            from torch.optim import AdamW
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(model, loader, accelerator):
                correct = total = 0
                for batch in loader:
                    with torch.no_grad():
                        predictions = model(batch["x"]).argmax(-1)
                    predictions, labels = accelerator.gather_for_metrics((predictions, batch["y"]))
                    correct += (predictions == labels).sum().item()
                    total += len(labels)
                return correct / total


            def main(train_dl, eval_dl):
                accelerator = Accelerator()
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 2))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                GPA.pai_tracker.set_optimizer(AdamW)
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 2e-5})
                model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)
                epoch = -1
                while True:
                    epoch += 1
                    model.train()
                    for batch in train_dl:
                        loss = F.cross_entropy(model(batch["x"]), batch["y"])
                        accelerator.backward(loss)
                        optimizer.step()
                        optimizer.zero_grad()
                    accuracy = evaluate(model, eval_dl, accelerator)
                    unwrapped_model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, accelerator.unwrap_model(model))
                    if training_complete:
                        break
                    elif restructured:
                        model = unwrapped_model
                        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 2e-5})
                        accelerator.wait_for_everyone()
                        model, optimizer = accelerator.prepare(model, optimizer)
            """),
    )

    def plan(self, tree: cst.Module) -> None:
        accelerate = self.report.parallelism.accelerate
        if accelerate is None:
            raise SkipFile(f"{self.CODE}: not an Accelerate script")
        if self.package != "pai_core":
            raise self.skip("the perforatedai backend does not follow rank 0's decisions under Accelerate; use the "
                            "default pai_core backend")
        hookups = [s for s in self.lines.start if m.matches(s, _HOOKUP)]
        branches = [s for s in self.lines.start if m.matches(s, _RESTRUCTURED)]
        if len(hookups) != 1 or len(branches) != 1:
            raise self.skip("found no single add_validation_score call with its `elif restructured:` branch: pass "
                            f"`{accelerate.accelerator}.unwrap_model(model)` to it and prepare the model and the "
                            "rebuilt optimizer again on restructure by hand")
        hookup, branch = hookups[0], branches[0]
        if any(self.code(c.func.value) == accelerate.accelerator
               for c in m.findall(branch, m.Call(func=m.Attribute(attr=m.Name("prepare"))))):
            raise SkipFile(f"{self.CODE}: the script already prepares again after a restructure")
        assign = hookup.body[0]
        args = assign.value.args
        model_var = self.code(args[1].value) if len(args) > 1 else ""
        unwrap = f"{accelerate.accelerator}.unwrap_model"
        if model_var.startswith(f"{unwrap}("):
            raise SkipFile(f"{self.CODE}: the tracker already gets the unwrapped model")
        prepare = accelerate.prepare_of(model_var)
        if prepare is None:  # e.g. `bare = accelerator.unwrap_model(model)` passed already; pai check judges the rest
            raise SkipFile(f"{self.CODE}: the tracker does not get a prepared model")
        if prepare.targets != prepare.arguments:
            raise self.skip(f"`{model_var}` does not go through one `{accelerate.accelerator}.prepare(...)` that "
                            "assigns every prepared object back to its own name; pass the unwrapped model to "
                            "add_validation_score and prepare again on restructure by hand", accelerate.line)
        unwrapped = f"unwrapped_{model_var.rsplit('.', 1)[-1]}"
        new_value = assign.value.with_changes(args=[args[0], args[1].with_changes(
            value=cst.parse_expression(f"{unwrap}({model_var})")), *args[2:]])
        targets = assign.targets[0].target
        targets = targets.with_changes(elements=[targets.elements[0].with_changes(value=cst.Name(unwrapped)),
                                                 *targets.elements[1:]])
        new_assign = assign.with_changes(targets=[assign.targets[0].with_changes(target=targets)], value=new_value)
        self.add_edit(self.lines.get(hookup), replace=lambda node: [node.with_changes(body=[new_assign])])
        body = branch.body.body
        targets_in_branch = [t.target for s in body for t in m.findall(s, m.AssignTarget())]
        rebuilt = {self.code(e.value) if isinstance(e, cst.Element) else self.code(e)
                   for t in targets_in_branch for e in (t.elements if isinstance(t, cst.Tuple) else [t])}
        again = [model_var, *(a for a in prepare.arguments if a in rebuilt and a != model_var)]
        if len(again) == 1:
            raise self.skip("the `elif restructured:` branch rebuilds none of the prepared optimizers: rebuild the "
                            "optimizer there and prepare it with the model", self.report.epoch_loop.line)
        self.add_edit(self.lines.get(body[0]), before=[self.stmt(f"{model_var} = {unwrapped}")])
        names = ", ".join(again)
        self.add_edit(self.lines.get(body[-1]), after=[
            self.stmt(f"{accelerate.accelerator}.wait_for_everyone()"),
            self.stmt(f"{names} = {accelerate.accelerator}.prepare({names})")])
