"""PAI004: hand the optimizer (and scheduler) to the dendrite tracker, keeping their exact types and arguments.

A simple setup (one torch.optim optimizer and at most one scheduler, built next to each other) becomes the
tracker's own construction, which can rebuild both after each restructure and steps the scheduler itself,
so the loop's `scheduler.step()` goes::

    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)

becomes::

    GPA.pai_tracker.set_optimizer(optim.Adadelta)
    GPA.pai_tracker.set_scheduler(StepLR)
    optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": args.lr}, {"step_size": 1, "gamma": args.gamma})

Without a scheduler `setup_optimizer` returns the optimizer alone. Anything else (several optimizers, custom
classes, per-batch schedulers, AMP/EMA, arguments it cannot name) keeps its code and registers the instance::

    optimizer = build_optimizer(model, cfg)
    GPA.pai_tracker.set_optimizer_instance(optimizer)

and its `scheduler.step()` stays (the tracker does not manage that scheduler).
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile

from codemods.analysis.optim import manual_lr_note, rebuilt_on_restructure
from codemods.examples import MNIST_INTEGRATED, Invalid, Valid
from codemods.rules._base import PaiRule
from codemods.rules._script import (
    HORIZON_SCHEDULERS,
    OPTIMIZER_PARAMETERS,
    SCHEDULER_PARAMETERS,
    call_value,
    callee_name,
    dict_source,
    keyword_arguments,
    names_in,
)


class _NotSimple(Exception):
    """The setup cannot be converted to setup_optimizer; the message says why."""


class ConvertOptimizer(PaiRule):
    CODE = "PAI004"
    DESCRIPTION = "Register the optimizer with the tracker: setup_optimizer for simple setups, else set_optimizer_instance."
    VALID = (Valid(MNIST_INTEGRATED),)
    INVALID = (
        Invalid("""
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
            """, expected="""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
            model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=False)
            GPA.pai_tracker.set_optimizer(torch.optim.Adam)
            optimizer = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1e-3})
            for epoch in range(100):
                train(model, optimizer)
                val_loss = evaluate(model)
            """),
        Invalid("""
            import torch
            import torch.nn as nn
            from pai_core import globals_perforatedai as GPA
            from pai_core import utils_perforatedai as UPA

            GPA.pc.set_testing_dendrite_capacity(True)
            model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
            model = UPA.perforate_model(model, save_name="train_dendritic", maximizing_score=False)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
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
            GPA.pai_tracker.set_optimizer(torch.optim.Adam)
            GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)
            optimizer, scheduler = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": 1e-3}, {"step_size": 30})
            for epoch in range(100):
                train(model, optimizer)
                val_loss = evaluate(model)
            """),
    )

    def plan(self, tree: cst.Module) -> None:
        if self.integrated("setup_optimizer", "set_optimizer_instance"):
            raise SkipFile(f"{self.CODE}: the optimizer is already registered with the tracker")
        report = self.report
        if report.optimizer_setup.kind in ("none", "framework") or not report.optimizers:
            raise self.skip("no optimizer construction found: create the optimizer and register it with "
                            f"{self.gpa}.pai_tracker.set_optimizer_instance(optimizer)")
        opt = self._model_optimizer()
        opt_stmt = self.statement_at(self.now(opt.line))
        target, call = call_value(opt_stmt)
        if not isinstance(target, (cst.Name, cst.Attribute)) or call is None:
            raise self.skip(f"the optimizer `{opt.text}` is not built in a plain assignment; register it by hand "
                            f"with {self.gpa}.pai_tracker.set_optimizer_instance(optimizer)", opt.line)
        for sched in report.schedulers:
            if sched.built_by == "manual":
                self.note(manual_lr_note(sched), sched.line)
        if report.optimizer_setup.kind == "simple":
            try:
                self._simple(opt, opt_stmt, target, call)
                return
            except _NotSimple as why:
                self.edits = {}
                self.note(f"kept the optimizer code and registered the instance: {why}", opt.line)
        else:
            self.note(f"complex optimizer setup ({report.optimizer_setup.reason}); kept as written", opt.line)
        self._register_instance(opt, opt_stmt, self.code(target))

    def _model_optimizer(self):
        """The optimizer that trains the perforated model (a GAN's generator optimizer for netG)."""
        optimizers = self.report.optimizers
        model = self.primary_model()
        if model is None:
            return optimizers[0]
        pattern = re.compile(rf"(?<![\w.]){re.escape(model.variable)}\b")
        first = [o for o in optimizers if not rebuilt_on_restructure(o)] or optimizers
        return next((o for o in first if pattern.search(o.params_argument or o.text)), first[0])

    # --- complex: keep the code, register the instance ---------------------------------------------------
    def _register_instance(self, opt, opt_stmt: cst.CSTNode, opt_var: str) -> None:
        others = list(dict.fromkeys(o.variable for o in self.report.optimizers if o.variable not in (None, opt.variable)
                                    and o.function == opt.function and not rebuilt_on_restructure(o)))
        extra = f", additional_optimizers=[{', '.join(others)}]" if others else ""
        if opt.condition and not others:
            self.note(f"the optimizer is built under `{opt.condition}`: it is registered where it is built and "
                      "rebuilt under the same condition after a restructure", opt.line)
        for again in self.report.optimizers:  # if/else alternatives and re-creations after a restructure
            if again is not opt and again.variable == opt.variable:
                stmt = self.statement_at(self.now(again.line))
                self.add_edit(self.lines.get(stmt),
                              after=[self.stmt(f"{self.gpa}.pai_tracker.set_optimizer_instance({opt_var}{extra})")])
        if others:
            self.note(f"several optimizers: `{opt_var}` must own every perforated module; the others "
                      "only get their parameters frozen and unfrozen", opt.line)
        anchor = opt_stmt
        if others:  # register after the last of them is built
            last = max((o for o in self.report.optimizers if o.variable in others or o is opt), key=lambda o: o.line)
            anchor = self.statement_at(self.now(last.line)) or opt_stmt
        self.add_edit(self.lines.get(anchor),
                      after=[self.stmt(f"{self.gpa}.pai_tracker.set_optimizer_instance({opt_var}{extra})")])

    # --- simple: setup_optimizer ---------------------------------------------------------------------------
    def _simple(self, opt, opt_stmt: cst.CSTNode, target: cst.CSTNode, call: cst.Call) -> None:
        opt_var = self.code(target)
        opt_args = keyword_arguments(call, OPTIMIZER_PARAMETERS.get(opt.name), "", self.module)
        if opt_args is None:
            raise _NotSimple(f"cannot name the positional arguments of {opt.name}")
        params = dict(opt_args).get("params")
        if params is None:
            raise _NotSimple("the optimizer has no params argument")
        net = _model_of(params) or self._model_var()
        sched = self._scheduler_for(opt_var)
        lines = [f"{self.gpa}.pai_tracker.set_optimizer({callee_name(call) or self.code(call.func)})"]
        opt_dict = dict_source(opt_args)
        anchor = opt_stmt
        if sched is None:
            lines.append(f"{opt_var} = {self.gpa}.pai_tracker.setup_optimizer({net}, {opt_dict})")
            self.add_edit(self.lines.get(opt_stmt), replace=lambda node: self.stmts(lines))
            return
        info, sched_stmt, sched_target, sched_call = sched
        sched_args = keyword_arguments(sched_call, SCHEDULER_PARAMETERS.get(info.name), "optimizer", self.module)
        if sched_args is None:
            raise _NotSimple(f"cannot name the positional arguments of {info.name}")
        steps = self._removable_steps(self.code(sched_target))
        anchor = self._meeting_point(opt_stmt, sched_stmt, opt_var, sched_args)
        lines.append(f"{self.gpa}.pai_tracker.set_scheduler({callee_name(sched_call) or self.code(sched_call.func)})")
        lines.append(f"{opt_var}, {self.code(sched_target)} = {self.gpa}.pai_tracker.setup_optimizer("
                     f"{net}, {opt_dict}, {dict_source(sched_args)})")
        for stmt in (opt_stmt, sched_stmt):
            if stmt is anchor:
                self.add_edit(self.lines.get(stmt), replace=lambda node: self.stmts(lines))
            else:
                self.add_edit(self.lines.get(stmt), replace=lambda node: [])
        for stmt in steps:
            self.add_edit(self.lines.get(stmt), replace=lambda node: [])
        if info.name in HORIZON_SCHEDULERS:
            self.note(f"{info.name} follows a fixed horizon but dendrite training runs longer than the original "
                      "epoch count; consider ReduceLROnPlateau or fixed switch mode", info.line)

    def _model_var(self) -> str:
        instance = self.primary_model()
        return instance.variable if instance is not None else "model"

    def _scheduler_for(self, opt_var: str):
        """(info, statement, target, call) of the scheduler built on this optimizer, or None."""
        candidates = []
        for info in self.report.schedulers:
            stmt = self.statement_at(self.now(info.line))
            target, call = call_value(stmt)
            if call is None or not call.args:
                continue
            first = call.args[0]
            if first.keyword is not None and first.keyword.value != "optimizer":
                first = next((a for a in call.args if a.keyword and a.keyword.value == "optimizer"), None)
            if first is not None and self.code(first.value) == opt_var:
                candidates.append((info, stmt, target, call))
        if not candidates:
            return None
        if len(candidates) > 1:
            raise _NotSimple(f"{len(candidates)} schedulers are built on `{opt_var}`")
        info, stmt, target, call = candidates[0]
        if not isinstance(target, (cst.Name, cst.Attribute)):
            raise _NotSimple(f"the scheduler `{info.text}` is not built in a plain assignment")
        if info.in_loop:
            raise _NotSimple(f"the scheduler is built inside a loop (line {info.line})")
        return candidates[0]

    def _removable_steps(self, sched_var: str) -> list[cst.CSTNode]:
        """The `scheduler.step(...)` statements that go because the tracker steps the scheduler.

        A scheduler stepped per batch (inside a loop other than the epoch loop) or somewhere a statement
        cannot simply be dropped keeps the user's code: the setup is then not simple.
        """
        stmts = []
        epoch_line = self.now(self.report.epoch_loop.line)
        for step in self.report.scheduler_steps:
            if step.variable != sched_var:
                continue
            stmt = self.statement_at(self.now(step.line))
            if not m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.Call())])):
                raise _NotSimple(f"`{step.text}` (line {step.line}) is not a statement of its own")
            loops = [a for a in self.lines.ancestors(stmt) if isinstance(a, (cst.For, cst.While))]
            if any(self.lines.get(loop) != epoch_line for loop in loops):
                raise _NotSimple(f"the scheduler is stepped per batch (line {step.line})")
            stmts.append(stmt)
        return stmts

    def _meeting_point(self, opt_stmt, sched_stmt, opt_var: str, sched_args) -> cst.CSTNode:
        """Where the combined setup goes: at the scheduler when nothing between uses the optimizer, at the
        optimizer when nothing between defines a name the scheduler's arguments need."""
        block = self.siblings(opt_stmt)
        ids = [id(s) for s in block]
        if id(sched_stmt) not in ids:
            raise _NotSimple("the optimizer and the scheduler are built in different blocks")
        start, stop = ids.index(id(opt_stmt)), ids.index(id(sched_stmt))
        if stop < start:
            raise _NotSimple("the scheduler is built before the optimizer")
        between = block[start + 1:stop]
        root = opt_var.split(".")[0]
        if not any(root in names_in(s) for s in between):
            return sched_stmt
        needed = set().union(*(names_in(cst.parse_expression(v)) for _, v in sched_args)) if sched_args else set()
        assigned = set()
        for s in between:
            for t in m.findall(s, m.AssignTarget()):
                assigned |= names_in(t)
        if not needed & assigned:
            return opt_stmt
        raise _NotSimple("statements between the optimizer and the scheduler depend on each other")


def _model_of(params: str) -> str | None:
    """`model` for `model.parameters()` (also `self.model.parameters()`)."""
    text = params.replace(" ", "")
    if text.endswith(".parameters()"):
        return text[: -len(".parameters()")]
    return None
