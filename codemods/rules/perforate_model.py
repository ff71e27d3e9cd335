"""PAI003: wrap the model with `UPA.perforate_model` right after it is built.

Before::

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

After::

    model = Net()
    model = UPA.perforate_model(model, save_name="mnist_dendritic", maximizing_score=True)
    model = model.to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

The call goes right after the construction, in the same block (under `if __name__ == "__main__":`, in a
`try`, in each branch of an if/else that builds the model), after anything that still changes the bare model (a new head, `load_state_dict` of pretrained
weights, freezing loops) and before `.to(device)`, `torch.compile`, wrappers and the optimizer: a chain or
wrapper around the constructor is split off. `maximizing_score` is the detected direction of the validation
metric (accuracy -> True, loss -> False); when it is unknown the library default True is written and a
warning says to check it. Per-module output-dimension fixes of the recommended config follow the call.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.examples import Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._placement import trained_constructions
from codemods.rules._script import names_in, sanitize_save_name


class PerforateModel(PaiRule):
    CODE = "PAI003"
    DESCRIPTION = "Call UPA.perforate_model right after the model is built (before .to(device) and the optimizer)."
    VALID = (
        Valid("""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
            model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=False)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            for epoch in range(100):
                train(model, optimizer)
                val_loss = evaluate(model)
            """),
    )
    INVALID = (
        Invalid("""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            for epoch in range(100):
                train(model, optimizer)
                val_loss = evaluate(model)
            """, expected="""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
            model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=False)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            for epoch in range(100):
                train(model, optimizer)
                val_loss = evaluate(model)
            """),
    )

    def plan(self, tree: cst.Module) -> None:
        if self.integrated("perforate_model", "initialize_pai"):
            raise SkipFile(f"{self.CODE}: perforate_model is already called")
        instance = self.primary_model()
        if instance is None:
            raise self.skip("no model construction found; call UPA.perforate_model right after building it")
        constructions = trained_constructions(self)
        if not constructions:
            raise self.skip(f"could not find the statement that builds the model (`{instance.text}`); add "
                            "`model = UPA.perforate_model(model, ...)` by hand right after it", instance.line)
        for stmt, built in constructions:  # each branch that builds the trained model gets its own call
            self._perforate_after(stmt, built)

    def _perforate_after(self, stmt: cst.CSTNode, instance) -> None:
        target = _assign_target(stmt)
        if target is None:
            raise self.skip(
                f"the model is not built in a plain assignment (`{self.code(stmt).strip()}`); add "
                "`model = UPA.perforate_model(model, ...)` by hand right after it", instance.line)
        model_var = self.code(target)
        value = stmt.body[0].value  # type: ignore[attr-defined]
        constructor = _constructor_call(value, instance.constructor)
        rest = None
        if constructor is not None and constructor is not value:
            # `model = Net().to(device)` -> `model = Net()` ... `model = model.to(device)`
            rest = value.deep_replace(constructor, cst.parse_expression(model_var))
            self.add_edit(self.lines.get(stmt), replace=lambda node, c=constructor: [_set_value(node, c)])
        anchor = self._after_model_edits(stmt, model_var)
        lines = [self._perforate_line(model_var, instance.line)]
        lines += self.perforation_config().override_lines(model_var)
        if rest is not None:
            lines.append(f"{model_var} = {self.code(rest)}")
        self.add_edit(self.lines.get(anchor), after=self.stmts(lines))

    def _perforate_line(self, model_var: str, line: int) -> str:
        direction = self.report.validation.direction
        if direction == "unknown":
            metric = self.report.validation.metric
            self.note(
                f"could not tell whether the validation metric{f' `{metric}`' if metric else ''} should go up or "
                "down; wrote maximizing_score=True (the library default): set it to False for a loss", line)
        maximizing = direction != "minimize"
        name = self.save_name or _default_save_name(self.context.filename)
        return (f'{model_var} = {self.upa}.perforate_model({model_var}, save_name="{sanitize_save_name(name)}", '
                f"maximizing_score={maximizing})")

    def _after_model_edits(self, anchor: cst.CSTNode, model_var: str) -> cst.CSTNode:
        """Skip over statements right after the construction that still change the bare model."""
        block = self.siblings(anchor)
        index = next(i for i, s in enumerate(block) if s is anchor)
        for following in block[index + 1:]:
            if _changes_model(following, model_var, self.code):
                anchor = following
            elif not _only_reads_model(following, model_var, self.code):
                break
        return anchor


def _assign_target(stmt: cst.CSTNode | None) -> cst.BaseAssignTargetExpression | None:
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(
            target=m.Name() | m.Attribute())])])):
        return None
    return stmt.body[0].targets[0].target  # type: ignore[union-attr]


def _constructor_call(value: cst.BaseExpression, constructor: str) -> cst.Call | None:
    """The call that builds the model inside `value` (`Net()` in `Net().to(device)`)."""
    short = constructor.rsplit(".", 1)[-1]
    calls = m.findall(value, m.Call())
    for call in calls:
        func = call.func  # type: ignore[attr-defined]
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if name == short:
            while True:  # `build_model(cfg)()`: the builder returns the class, the outer call builds the model
                outer = next((c for c in calls if c.func is call), None)  # type: ignore[attr-defined]
                if outer is None:
                    return call  # type: ignore[return-value]
                call = outer
    return value if isinstance(value, cst.Call) else None


def _set_value(stmt: cst.SimpleStatementLine, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    assign = stmt.body[0]
    return stmt.with_changes(body=[assign.with_changes(value=value)])


def _changes_model(stmt: cst.CSTNode, model_var: str, code) -> bool:
    """`model.fc = ...`, `model.load_state_dict(...)`, `for p in model.parameters(): ...` right after building."""
    prefix = model_var + "."
    if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign()])):
        return all(code(t.target).startswith(prefix) for t in stmt.body[0].targets)  # type: ignore[attr-defined]
    if m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.Call(func=m.Attribute()))])):
        call = stmt.body[0].value  # type: ignore[attr-defined]
        return code(call.func).startswith(prefix) and call.func.attr.value in (
            "load_state_dict", "requires_grad_", "apply", "init_weights", "reset_parameters")
    if isinstance(stmt, cst.For):
        return code(stmt.iter).startswith(prefix) and "parameters" in code(stmt.iter) \
            and model_var.split(".")[0] in names_in(stmt.iter)
    return False


def _only_reads_model(stmt: cst.CSTNode, model_var: str, code) -> bool:
    """A statement that can sit between the construction and a later head replacement, e.g.
    `num_ftrs = model.fc.in_features` or one that does not touch the model at all."""
    root = model_var.split(".")[0]
    if root not in names_in(stmt):
        return isinstance(stmt, cst.SimpleStatementLine)
    if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())])])):
        return False
    assign = stmt.body[0]  # type: ignore[attr-defined]
    if code(assign.targets[0].target) == root:
        return False
    calls = m.findall(assign.value, m.Call())
    return not any(root in names_in(c.func) or any(root in names_in(a.value) for a in c.args)  # type: ignore
                   for c in calls)


def _default_save_name(filename: str | None) -> str:
    if not filename or filename.startswith("<"):
        return "PAI"
    stem = Path(filename).name.split(".")[0]
    return f"{stem}_dendritic"
