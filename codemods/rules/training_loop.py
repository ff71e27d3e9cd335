"""PAI005: let the tracker decide when training ends, and rebuild what a restructure invalidates.

Before::

    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)

After::

    epoch = 0
    while True:
        epoch += 1
        train(args, model, device, train_loader, optimizer, epoch)
        score = test(model, device, test_loader)
        model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)
        model.to(device)
        if training_complete:
            break
        elif restructured:
            optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {...}, {...})

The counter starts one before the original first epoch (-1 for `range(n)`), so epoch numbers are unchanged;
`while epoch < max_epochs` becomes `while True`. A loop that validates every n iterations (nanoGPT's
`if iter_num % eval_interval == 0:`) gets the hookup inside that block: each validation is one tracker epoch.
A script that trains and then tests once gets that evaluation at the end of every epoch, on the validation
loader it builds but never evaluates, or else on half of its test loader split off before the loop (the final
test keeps the other half; a finding says so). A dict of scores passes its validation entry (`losses['val']`); a loop in a method passes `self.model`, and
the restructure branch re-points aliases of the model (`m = model`). The rule refuses, asking the question,
when there is no epoch loop, no validation metric, or the metric's direction is unknown.
`--keep-for-loop` keeps the `for` header with a large bound instead. A validation function that only prints
its metric gets a `return` of it. On restructure the optimizer (and scheduler) are re-created exactly as the
script first builds them (the same setup_optimizer call, or the same construction plus
set_optimizer_instance). The model goes back to the script's device when it has one.
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.analysis.loop import counter_condition, loop_refusal
from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._script import call_value, names_in

LARGE_EPOCH_BOUND = "1_000_000"


class ConvertTrainingLoop(PaiRule):
    CODE = "PAI005"
    DESCRIPTION = "Loop until training_complete, call add_validation_score after validation, rebuild on restructure."
    VALID = (
        Valid("""
            from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments

            model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
            args = TrainingArguments(output_dir="out", num_train_epochs=3, eval_strategy="epoch")
            trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=val_set)
            trainer.train()
            """),  # the Trainer runs the loop: PAI010's
    )
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(model, loader):
                correct = 0
                for data, target in loader:
                    correct += (model(data).argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def main(train_loader, val_loader):
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                GPA.pai_tracker.set_optimizer(torch.optim.SGD)
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
                for epoch in range(10):
                    for data, target in train_loader:
                        optimizer.zero_grad()
                        F.cross_entropy(model(data), target).backward()
                        optimizer.step()
                    accuracy = evaluate(model, val_loader)
            """, expected=MNIST_INTEGRATED),
        Invalid("""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(model, loader):
                correct = 0
                for data, target in loader:
                    correct += (model(data).argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def main(train_loader, val_loader):
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                GPA.pai_tracker.set_optimizer(torch.optim.SGD)
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
                for epoch in range(10):
                    for data, target in train_loader:
                        optimizer.zero_grad()
                        F.cross_entropy(model(data), target).backward()
                        optimizer.step()
                    accuracy = evaluate(model, val_loader)
            """, expected="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def evaluate(model, loader):
                correct = 0
                for data, target in loader:
                    correct += (model(data).argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def main(train_loader, val_loader):
                GPA.pc.set_testing_dendrite_capacity(True)
                GPA.pc.set_module_names_to_perforate(['Linear'])
                GPA.pc.set_output_dimensions([-1, 0, -1, -1])
                model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
                model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=True)
                GPA.pai_tracker.set_optimizer(torch.optim.SGD)
                optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
                for epoch in range(1_000_000):
                    for data, target in train_loader:
                        optimizer.zero_grad()
                        F.cross_entropy(model(data), target).backward()
                        optimizer.step()
                    accuracy = evaluate(model, val_loader)
                    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(accuracy, model)
                    if training_complete:
                        break
                    elif restructured:
                        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 0.01})
            """, options={"keep_for_loop": True}),
    )

    def plan(self, tree: cst.Module) -> None:
        if self.integrated("add_validation_score"):
            raise SkipFile(f"{self.CODE}: add_validation_score is already called")
        question = loop_refusal(self.report)
        if question:
            raise self.skip(question.removeprefix(f"{self.CODE}: "), self.report.epoch_loop.line)
        loop = self.report.epoch_loop
        loop_stmt = self.statement_at(self.now(loop.line)) if loop.line else None
        if not isinstance(loop_stmt, (cst.For, cst.While)):
            raise self.skip("no epoch loop found: call add_validation_score once per epoch after validation")
        validation = self.report.validation
        if validation.call_line:
            val_stmt = self.statement_at(self.now(validation.call_line))
        else:  # validation written inline in the loop: hook up after the metric's last assignment
            val_stmt = self._inline_metric_statement(loop_stmt, validation.metric or "")
        evaluation: list[str] = []
        if loop.validates_after and val_stmt is not None and isinstance(loop_stmt.body, cst.IndentedBlock):
            evaluation, score = self._evaluate_each_epoch(loop_stmt, val_stmt, validation)
            val_stmt = loop_stmt.body.body[-1]  # trains, then tests once: evaluate at the end of every epoch
        elif val_stmt is None or not any(a is loop_stmt for a in self.lines.ancestors(val_stmt)):
            raise self.skip("could not find the validation step inside the epoch loop: call "
                            f"{self.gpa}.pai_tracker.add_validation_score(score, model) after it by hand", loop.line)
        while isinstance(self.lines.parent.get(val_stmt), (cst.With, cst.Try)):
            val_stmt = self.lines.parent[val_stmt]
        model_var = self._loop_model_var(loop_stmt)
        self.block_indent = _indent_of(self.source, self.lines.get(val_stmt))
        if not evaluation:
            score = self._score(val_stmt, validation)
        self.loop_stmt, self.model_var = loop_stmt, model_var
        lines = evaluation + self._hookup(score, model_var)
        self.add_edit(self.lines.get(val_stmt), after=[self.stmt(code) for code in lines])
        self._leave_epoch_loop(val_stmt, loop_stmt)
        self._convert_header(loop_stmt, loop)

    def _leave_epoch_loop(self, val_stmt: cst.CSTNode, loop_stmt: cst.CSTNode) -> None:
        """Validation inside a batch loop: its `break` only leaves that loop, so the epoch loop breaks too,
        right after it (with `training_complete` set before it, for passes that do not validate)."""
        ancestors = self.lines.ancestors(val_stmt)
        inner = [a for a in ancestors[: ancestors.index(loop_stmt)] if isinstance(a, (cst.For, cst.While))]
        if not inner:
            return
        outermost = inner[-1]
        self.add_edit(self.lines.get(outermost), before=[self.stmt("training_complete = False")],
                      after=[self.stmt("if training_complete:\n    break\n")])

    def _inline_metric_statement(self, loop_stmt: cst.CSTNode, metric: str) -> cst.CSTNode | None:
        if not re.fullmatch(r"[A-Za-z_]\w*", metric):
            return None
        assigns = m.SimpleStatementLine(body=[m.Assign(targets=[m.ZeroOrMore(), m.AssignTarget(
            target=m.Name(metric) | m.Tuple(elements=[m.ZeroOrMore(), m.Element(m.Name(metric)), m.ZeroOrMore()])),
            m.ZeroOrMore()]) | m.AugAssign(target=m.Name(metric))])
        found = [s for s in self.one_statement_lines(cst.Assign, cst.AugAssign) if m.matches(s, assigns)
                 and any(a is loop_stmt for a in self.lines.ancestors(s))
                 and not any(isinstance(a, (cst.For, cst.While)) and a is not loop_stmt
                             for a in self.lines.ancestors(s)[: self.lines.ancestors(s).index(loop_stmt)])]
        return max(found, key=self.lines.get) if found else None

    # --- no per-epoch validation ------------------------------------------------------------------------
    def _evaluate_each_epoch(self, loop_stmt, test_stmt, validation) -> tuple[list[str], str]:
        """The script's one evaluation after the loop, run at the end of every epoch on held-out data: the
        validation loader it builds but never evaluates, else half of its test loader (the final test then
        uses the other half, so the reported test score stays unseen by the tracker)."""
        _, call = call_value(test_stmt)
        loader = validation.loader
        arg = next((a for a in call.args if loader and m.matches(a.value, m.Name(loader))), None) if call else None
        if arg is None:
            raise self.skip(f"the script trains, then evaluates once with `{validation.function}()`, which is not "
                            "given its data as an argument: pass it a loader, or write a validation pass in the "
                            "epoch loop, and run `pai perforate` again", validation.call_line)
        held = validation.held_out or loader
        if held == loader:
            held = self._hold_out(loop_stmt, loader)
        else:
            self.note(f"no validation in the epoch loop: `{validation.function}()` now also runs every epoch on "
                      f"`{held}`, which the script built but never evaluated", validation.call_line)
        score = "score" if not re.search(r"\bscore\b", self.source) else "val_score"
        evaluation = call.deep_replace(arg.value, cst.Name(held))
        return [f"{score} = {self.code(evaluation)}"], score

    def _hold_out(self, loop_stmt, loader: str) -> str:
        """Split the test loader's data in two before the loop: one half scores every epoch, the other is the
        final test. Returns the name of the held-out loader."""
        built = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(loader))],
                                                     value=m.Call(func=m.Name(value=m.MatchIfTrue(
                                                         lambda n: n.endswith("DataLoader")))
                                                         | m.Attribute(attr=m.Name("DataLoader"))))])
        if not any(isinstance(s, cst.SimpleStatementLine) and m.matches(s, built) for s in self.lines.start) or \
                "torch" not in {i.alias or i.module for i in self.report.imports if i.name is None}:
            raise self.skip(f"the script trains, then tests once on `{loader}`, and has no validation data: build a "
                            "validation loader (e.g. a part of the training set), evaluate it each epoch, and run "
                            "`pai perforate` again", self.report.validation.call_line)
        names = names_in(self.module)
        held = next(n for n in ("val_loader", "held_out_loader", "pai_val_loader") if n not in names)
        settings = next(n for n in ("loader_settings", "pai_loader_settings") if n not in names)
        lines = [  # both halves keep the loader's batching, collate_fn and workers
            f"val_part, test_part = torch.utils.data.random_split({loader}.dataset, [0.5, 0.5], "
            "generator=torch.Generator().manual_seed(0))",
            f"{settings} = dict(batch_size={loader}.batch_size, collate_fn={loader}.collate_fn, "
            f"num_workers={loader}.num_workers, pin_memory={loader}.pin_memory)",
            f"{held} = torch.utils.data.DataLoader(val_part, **{settings})",
            f"{loader} = torch.utils.data.DataLoader(test_part, **{settings})",
        ]
        self.add_edit(self.lines.get(loop_stmt), before=self.stmts(lines))
        self.note(f"the script has no validation split and tests once after training: half of `{loader}`'s data "
                  f"is now held out as `{held}` to score every epoch for the tracker, and the final test uses the "
                  "other half (a split of the training data is the better choice when you have one)",
                  self.report.validation.call_line)
        return held

    # --- the score --------------------------------------------------------------------------------------
    def _score(self, val_stmt: cst.CSTNode, validation) -> str:
        target, call = call_value(val_stmt)
        metric = validation.metric or ""
        if isinstance(target, cst.Name):  # `losses = estimate_loss()`, metric `losses['val']`: pass the entry
            return metric if metric.startswith(f"{target.value}[") else target.value
        if isinstance(target, cst.Tuple):
            names = [self.code(e.value) for e in target.elements]
            chosen = [n for n in names if n.lower() == metric.lower()] or [
                n for n in names if metric and metric.lower() in n.lower()]
            if len(chosen) == 1:
                return chosen[0]
            raise self.skip(f"validation returns several values ({', '.join(names)}); could not tell which one is "
                            "the metric: pass it to add_validation_score by hand", validation.call_line)
        if target is None and call is not None:
            name = "val_score" if self.taken("score") else "score"  # a fresh name
            self.add_edit(self.lines.get(val_stmt), replace=lambda node: [_assign(node, name)])
            if not validation.metric_returned:
                self._return_metric(validation)
            return name
        if metric and re.fullmatch(r"[A-Za-z_]\w*", metric) and metric in names_in(val_stmt):
            return metric
        raise self.skip("the validation step does not produce a value the tracker can take: make it return the "
                        "metric and pass it to add_validation_score", validation.call_line)

    def _return_metric(self, validation) -> None:
        func = self.statement_at(self.now(validation.line))
        if not isinstance(func, cst.FunctionDef):
            raise self.skip(f"{validation.function}() does not return its metric; add a return", validation.line)
        expr = _printed_metric(func, validation.metric or "", self.code)
        if expr is None:
            raise self.skip(f"{validation.function}() only prints its metric and the printed expression could not "
                            "be found: make it return the metric", validation.line)
        ret = self.stmt(f"return {expr}")
        self.add_edit(self.lines.get(func), replace=lambda node: [
            node.with_changes(body=node.body.with_changes(body=[*node.body.body, ret]))])
        self.note(f"{validation.function}() only printed its metric; it now returns `{expr}`", validation.line)

    # --- the hookup -------------------------------------------------------------------------------------
    def _loop_model_var(self, loop_stmt: cst.CSTNode) -> str:
        instance = self.primary_model()
        if "." in (self.report.epoch_loop.function or ""):  # Trainer.fit(): the model is an attribute of self
            used = {self.code(a) for a in m.findall(loop_stmt, m.Attribute(value=m.Name("self")))}
            for name in (f"self.{instance.variable}" if instance else "", "self.model", "self.net"):
                if name in used:
                    return name
        if instance is not None and instance.variable.split(".")[0] in names_in(loop_stmt):
            return instance.variable
        model_stmt = self.statement_at(self.now(instance.line)) if instance is not None else None
        if model_stmt is not None and self.function_name(model_stmt) == self.function_name(loop_stmt):
            return instance.variable  # same scope: the loop calls helpers that use it
        for name in ("model", "net", "self.model"):
            if name.split(".")[-1] in names_in(loop_stmt):
                return name
        raise self.skip("could not tell which variable holds the model inside the epoch loop", self.report.epoch_loop.line)

    def _hookup(self, score: str, model_var: str) -> list[str]:
        gpa, indent = self.gpa, self.module.default_indent
        lines = [(f"{model_var}, restructured, training_complete = "
                  f"{gpa}.pai_tracker.add_validation_score({score}, {model_var})")]
        device = self.report.model.moved_to.get(model_var)  # as the analysis resolved it, never a comment
        if device == "cuda()":
            lines.append(f"{model_var}.cuda()")
        elif device is not None:
            lines.append(f"{model_var}.to({device})")
        rebuild = self._aliases(model_var) + self._rebuild_lines()  # the alias first: the rebuild may read it
        branch = f"if training_complete:\n{indent}break\n"
        if rebuild:
            branch += "elif restructured:\n" + "".join(f"{indent}{line}\n" for line in rebuild)
        lines.append(branch)
        return lines

    def _rebuild_lines(self) -> list[str]:
        """The optimizer construction exactly as the script has it now (after PAI004)."""
        setup = [s for s in self._statements_calling("setup_optimizer")]
        if setup:
            return [self._copy(setup[0])]
        register = self._statements_calling("set_optimizer_instance")
        if register:
            call = m.findall(register[0], m.Call(func=m.Attribute(attr=m.Name("set_optimizer_instance"))))[0]
            opt_var = self.code(call.args[0].value) if call.args else None  # type: ignore[attr-defined]
            out, guards = [], []
            for opt in self.report.optimizers:
                if opt.variable == opt_var or (opt.variable and opt.variable in self.code(call)):
                    stmt = self.statement_at(self.now(opt.line))
                    out += [self._copy(s) for s in self._parameter_groups(stmt)]
                    guard = self.guard(stmt) if opt.condition else None
                    if guard is None:
                        out.append(self._copy(stmt))
                    elif guard not in guards:  # built under a flag: rebuilt under it, registration included
                        guards.append(guard)
                        out.append(self._copy(guard))
            if guards:
                return out
            for sched in self.report.schedulers:
                stmt = self.statement_at(self.now(sched.line))
                if stmt is not None and opt_var and any(re.fullmatch(rf"(\w+\s*=\s*)?{re.escape(opt_var)}", a.strip())
                                                         for a in sched.arguments):  # StepLR(opt) or (optimizer=opt)
                    out.append(self._copy(stmt))
            if out:
                self.note("restructure re-creates the optimizer as first built; if it depends on other objects "
                          "built with the model (EMA, GradScaler), re-create those there too")
                return [*out, self._copy(register[0])]
        self.note("no optimizer registration found: re-create the optimizer in the `elif restructured:` branch")
        return ["pass"]

    def _parameter_groups(self, built: cst.CSTNode) -> list[cst.CSTNode]:
        """`optimizer_grouped_parameters = [... model.named_parameters() ...]` built before the optimizer from the
        model: the list holds the old parameters, so the restructure branch builds it again first."""
        _, call = call_value(built)
        first = call.args[0].value if call is not None and call.args else None
        if not isinstance(first, cst.Name):
            return []
        pattern = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(first.value))])])
        instance = self.primary_model()
        model = (instance.variable if instance else "model").split(".")[0]
        groups = [s for s in self.lines.start if m.matches(s, pattern) and self.lines.get(s) < self.lines.get(built)
                  and self.function_name(s) == self.function_name(built)]
        last = max(groups, key=self.lines.get, default=None)
        return [last] if last is not None and model in names_in(last) else []

    def _aliases(self, model_var: str) -> list[str]:
        """`m = model` in the loop's scope: after a restructure the alias must name the new model too."""
        alias = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())],
                                                     value=m.Name(model_var))])
        scope = self.function_name(self.loop_stmt)
        return [_strip(self.code(s)) for s in self.one_statement_lines(cst.Assign)
                if m.matches(s, alias) and self.function_name(s) == scope]

    def _copy(self, stmt: cst.CSTNode) -> str:
        """A statement's code for the restructure branch, continuation lines re-indented to their new depth.

        When the optimizer is built in another function than the loop (e.g. in main() and the loop in fit()),
        the model's name there is replaced by the loop's and a warning asks to check the other names.
        """
        text = _strip(self.code(stmt))
        there, here = self.function_name(stmt), self.function_name(self.loop_stmt)
        if there == "__init__" and self.model_var.startswith("self."):  # built in __init__, looped in a method
            return self._copy_from_init(stmt, text)
        if there != here:
            instance = self.primary_model()
            if instance is not None and instance.variable != self.model_var:
                text = re.sub(rf"(?<![\w.]){re.escape(instance.variable)}\b", self.model_var, text)
            self.note(f"the optimizer is built in {there or 'the module'} but the epoch loop is in {here or 'the module'}"
                      f"; the restructure branch re-creates it there: check every name it uses exists in that scope, "
                      f"and return `{self.model_var}` to the caller if it uses the model afterwards",
                      self.report.epoch_loop.line)
        old = _indent_of(self.source, self.lines.get(stmt))
        # libcst keeps continuation lines of a simple statement relative to the block; a compound statement's
        # body is re-indented relative to its header
        new = self.module.default_indent * (1 if isinstance(stmt, cst.BaseCompoundStatement) else 2)
        lines = text.splitlines()
        return "\n".join([lines[0], *(new + (ln[len(old):] if ln.startswith(old) else ln.lstrip())
                                       for ln in lines[1:])])

    def _copy_from_init(self, stmt: cst.CSTNode, text: str) -> str:
        """`lr=config.lr` in __init__ is `lr=self.config.lr` in the method, when __init__ keeps `self.config = config`."""
        init = next(a for a in self.lines.ancestors(stmt) if isinstance(a, cst.FunctionDef))
        kept = m.Assign(targets=[m.AssignTarget(target=m.Attribute(value=m.Name("self")))], value=m.Name())
        for assign in m.findall(init, kept):
            name = assign.value.value  # type: ignore[attr-defined]
            if assign.targets[0].target.attr.value == name:  # type: ignore[attr-defined]
                text = re.sub(rf"(?<![\w.]){re.escape(name)}\b", f"self.{name}", text)
        return text

    def _statements_calling(self, attr: str) -> list[cst.CSTNode]:
        pattern = m.SimpleStatementLine(body=[m.Assign(value=m.Call(func=m.Attribute(attr=m.Name(attr))))
                                              | m.Expr(value=m.Call(func=m.Attribute(attr=m.Name(attr))))])
        if attr not in self.source:  # a cheap text check spares matching every statement of a long script
            return []
        return [s for s in self.one_statement_lines(cst.Assign, cst.Expr) if m.matches(s, pattern)]

    # --- the loop header ----------------------------------------------------------------------------------
    def _convert_header(self, loop_stmt: cst.CSTNode, loop) -> None:
        if isinstance(loop_stmt, cst.While):
            if counter_condition(loop_stmt.test):  # `while epoch < max_epochs`: the tracker ends training now
                self.add_edit(self.lines.get(loop_stmt), replace=lambda node: [node.with_changes(test=cst.Name("True"))])
                self.note(f"the epoch loop `while {self.code(loop_stmt.test)}` now runs until training_complete",
                          loop.line)
            elif self.code(loop_stmt.test).strip() not in ("True", "1"):
                self.note("the epoch loop is a `while` with its own condition: make sure it keeps running until "
                          "training_complete", loop.line)
            return
        rng = _range_call(loop_stmt.iter)
        if rng is None or not isinstance(loop_stmt.target, cst.Name) or loop_stmt.orelse is not None:
            self.note("the epoch loop is not a plain `for ... in range(...)`: it was kept; make sure it runs until "
                      "training_complete", loop.line)
            return
        positional = [a for a in rng.args if a.keyword is None]
        if self.keep_for_loop or len(positional) > 2:
            bound = positional[0] if len(positional) == 1 else positional[1]
            new_rng = rng.with_deep_changes(bound, value=cst.Integer(LARGE_EPOCH_BOUND))
            new_iter = loop_stmt.iter.deep_replace(rng, new_rng)
            self.add_edit(self.lines.get(loop_stmt), replace=lambda node: [node.with_changes(iter=new_iter)])
            return
        if loop.bound and loop.bound.split("+")[0].strip() in self.code(loop_stmt.body):
            self.note(f"the loop body uses the old epoch bound `{loop.bound}`, which no longer ends training",
                      loop.line)
        var = loop_stmt.target.value
        start = "0" if len(positional) == 1 else self.code(positional[0].value)
        first = str(int(start) - 1) if re.fullmatch(r"-?\d+", start) else f"{start} - 1"
        init = self.stmt(f"{var} = {first}")
        bump = self.stmt(f"{var} += 1")

        def to_while(node: cst.For) -> list[cst.BaseStatement]:
            body = node.body.with_changes(body=[bump, *node.body.body])
            loop_node = cst.While(test=cst.Name("True"), body=body, leading_lines=[],
                                  whitespace_after_while=cst.SimpleWhitespace(" "),
                                  whitespace_before_colon=node.whitespace_before_colon)
            return [init.with_changes(leading_lines=node.leading_lines), loop_node]

        self.add_edit(self.lines.get(loop_stmt), replace=to_while)


def _assign(stmt: cst.SimpleStatementLine, name: str) -> cst.SimpleStatementLine:
    expr = stmt.body[0]
    return stmt.with_changes(body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(name))], value=expr.value)])


def _indent_of(code: str, line: int) -> str:
    text = code.splitlines()[line - 1] if 0 < line <= code.count("\n") + 1 else ""
    return text[: len(text) - len(text.lstrip())]


def _strip(code: str) -> str:
    """A statement's own code without the comment/blank lines above it."""
    lines = code.strip("\n").splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        lines.pop(0)
    return "\n".join(lines).strip()


def _range_call(node: cst.BaseExpression) -> cst.Call | None:
    while isinstance(node, cst.Call):
        func = node.func
        name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else ""
        if name in ("range", "trange"):
            return node
        if not node.args:
            return None
        node = node.args[0].value
    return None


def _printed_metric(func: cst.FunctionDef, metric: str, code) -> str | None:
    """The expression a print-only validation function prints for `metric` (last print wins)."""
    assigned = {code(t.target) for t in m.findall(func, m.AssignTarget())}
    assigned |= {code(a.target) for a in m.findall(func, m.AugAssign())}
    if metric in assigned:
        return metric
    label = metric.lower()
    for call in reversed(m.findall(func, m.Call(func=m.Name("print")))):
        pieces = _formatted_pieces(call, code)
        after = [expr for text_before, expr in pieces if label and label in text_before.lower()]
        for expr in after[:3]:
            if isinstance(expr, cst.BinaryOperation):
                return code(expr)
        if after:
            return code(after[0])
    return None


def _formatted_pieces(call: cst.Call, code) -> list[tuple[str, cst.BaseExpression]]:
    """(text printed before it, expression) for each value a print call formats."""
    out: list[tuple[str, cst.BaseExpression]] = []
    for arg in call.args:
        value = arg.value
        if m.matches(value, m.Call(func=m.Attribute(value=m.SimpleString() | m.ConcatenatedString(),
                                                     attr=m.Name("format")))):
            template = code(value.func.value)
            parts = re.split(r"\{[^{}]*\}", template)
            args = [a.value for a in value.args if a.keyword is None]
            for index, expr in enumerate(args):
                out.append(("".join(parts[: index + 1]), expr))
        elif isinstance(value, cst.FormattedString):
            text = ""
            for part in value.parts:
                if isinstance(part, cst.FormattedStringText):
                    text += part.value
                else:
                    out.append((text, part.expression))
        elif isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Modulo) \
                and isinstance(value.left, cst.SimpleString):
            parts = re.split(r"%[-#0 +]*\d*(?:\.\d+)?[sdifgeEr]", value.left.value)
            right = value.right
            elems = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
            for index, expr in enumerate(elems):
                out.append(("".join(parts[: index + 1]), expr))
    return out
