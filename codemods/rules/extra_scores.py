"""PAI006: record the training metric (and, opt-in, the test metric) next to the validation score.

Before::

    train_loss, train_acc = train(model, train_loader, optimizer)
    val_acc = evaluate(model, val_loader)
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_acc, model)

After::

    train_loss, train_acc = train(model, train_loader, optimizer)
    val_acc = evaluate(model, val_loader)
    GPA.pai_tracker.add_extra_score(train_acc, "train")
    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_acc, model)

The train metric is the value the train step already returns that matches the validation metric's kind
(accuracy or loss): no extra pass is added. With `--extra-scores` and a test loader in the script, the
validation function is also run on the test loader and added as "test". Extra scores always go before
add_validation_score (the library writes its graphs there).
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._script import call_value, names_in

_VALIDATION_CALL = m.SimpleStatementLine(body=[m.Assign(value=m.Call(
    func=m.Attribute(attr=m.Name("add_validation_score"))))])


class AddExtraScores(PaiRule):
    CODE = "PAI006"
    DESCRIPTION = "Add add_extra_score(train_metric, 'train') (and opt-in test scores) before add_validation_score."
    VALID = (Valid(MNIST_INTEGRATED),)
    INVALID = (
        Invalid("""
            import torch
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def train(model, loader, optimizer):
                correct = 0
                for data, target in loader:
                    optimizer.zero_grad()
                    output = model(data)
                    F.nll_loss(output, target).backward()
                    optimizer.step()
                    correct += (output.argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def evaluate(model, loader):
                correct = 0
                with torch.no_grad():
                    for data, target in loader:
                        correct += (model(data).argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def fit(model, optimizer, train_loader, val_loader):
                while True:
                    train_acc = train(model, train_loader, optimizer)
                    val_acc = evaluate(model, val_loader)
                    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_acc, model)
                    if training_complete:
                        break
                    elif restructured:
                        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1.0})
            """, expected="""
            import torch
            import torch.nn.functional as F
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA


            def train(model, loader, optimizer):
                correct = 0
                for data, target in loader:
                    optimizer.zero_grad()
                    output = model(data)
                    F.nll_loss(output, target).backward()
                    optimizer.step()
                    correct += (output.argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def evaluate(model, loader):
                correct = 0
                with torch.no_grad():
                    for data, target in loader:
                        correct += (model(data).argmax(1) == target).sum().item()
                return correct / len(loader.dataset)


            def fit(model, optimizer, train_loader, val_loader):
                while True:
                    train_acc = train(model, train_loader, optimizer)
                    val_acc = evaluate(model, val_loader)
                    GPA.pai_tracker.add_extra_score(train_acc, "train")
                    model, restructured, training_complete = GPA.pai_tracker.add_validation_score(val_acc, model)
                    if training_complete:
                        break
                    elif restructured:
                        optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1.0})
            """),
    )

    def plan(self, tree: cst.Module) -> None:
        if self.integrated("add_extra_score", "add_test_score", "add_extra_score_without_graphing"):
            raise SkipFile(f"{self.CODE}: extra scores are already recorded")
        hookups = [s for s in self.one_statement_lines(cst.Assign) if m.matches(s, _VALIDATION_CALL)]
        if len(hookups) != 1:
            raise SkipFile(f"{self.CODE}: needs exactly one add_validation_score call to place scores before")
        hookup = hookups[0]
        lines = []
        train = self._train_metric()
        if train:
            lines.append(f'{self.gpa}.pai_tracker.add_extra_score({train}, "train")')
        if self.extra_scores:
            lines += self._test_lines(hookup)
        if not lines:
            raise SkipFile(f"{self.CODE}: the train step returns no metric to record")
        self.add_edit(self.lines.get(hookup), before=self.stmts(lines))

    def _train_metric(self) -> str | None:
        wanted = "acc" if self.report.validation.direction != "minimize" else "loss"
        for call in self.report.epoch_loop.train_calls:
            target, _ = call_value(self.statement_at(self.now(call.line)))
            names = [self.code(e.value) for e in target.elements] if isinstance(target, cst.Tuple) else (
                [target.value] if isinstance(target, cst.Name) else [])
            chosen = [n for n in names if wanted in n.lower()]
            if len(chosen) == 1 and chosen[0] != self.report.validation.metric:
                return chosen[0]
        return None

    def _test_lines(self, hookup: cst.CSTNode) -> list[str]:
        validation = self.report.validation
        stmt = self.statement_at(self.now(validation.call_line))
        target, call = call_value(stmt)
        if call is None or not isinstance(target, cst.Name):
            self.note("--extra-scores: the validation call is not `score = validate(...)`; add the test score by hand",
                      validation.call_line)
            return []
        loaders = [n for n in names_in(self.module) if re.search(r"test", n, re.IGNORECASE) and re.search(r"loader|data", n, re.IGNORECASE)]
        val_args = [a for a in call.args if isinstance(a.value, cst.Name) and re.search(r"val|valid", a.value.value)]
        if len(loaders) != 1 or len(val_args) != 1:
            self.note("--extra-scores: could not find one test loader and the validation loader argument to swap",
                      validation.call_line)
            return []
        test_call = call.deep_replace(val_args[0].value, cst.Name(loaders[0]))
        return [f"test_score = {self.code(test_call)}", f'{self.gpa}.pai_tracker.add_extra_score(test_score, "test")']
