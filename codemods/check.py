"""Static verification of a dendrite integration: is every piece there, in the right place and consistent?

`check_integration(path_or_source)` reads the script (never runs it) and returns findings with codes, lines
and severities. It catches the mistakes the workflow's debugging notes list as the common ones: the tracker
never called, the optimizer not rebuilt after a restructure, a fixed-range loop that ends before training is
complete, `maximizing_score` contradicting the metric, extra scores after add_validation_score, a scheduler
stepped twice. Each `_check_*` step below looks at one of those and adds its findings (codes PAI101-PAI199,
each declared, with what it means and its examples, in check_codes.py: `add` refuses any other).
"""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import libcst.matchers as m
from pydantic import BaseModel, Field

from codemods.check_codes import REQUIRED, declared
from pai_core.findings import Finding, Severity

__all__ = ["CheckReport", "check_integration"]


class CheckReport(BaseModel):
    filename: str
    findings: list[Finding] = []
    integrated: bool = Field(description="every required component is present")

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_integration(path_or_source: str | Path, *, filename: str | None = None, report=None,
                      module: cst.Module | None = None, facts=None) -> CheckReport:
    """Check an integrated script (a path, or the source text itself); `report`, `module` and `facts`: its
    analysis, parse and collected facts, when the caller has them already (`pai perforate` checks its rewrite
    in memory). The facts' one pass gives every node's parent, line and text: nothing walks the tree again."""
    from codemods.analysis import analyze_source
    from codemods.analysis.facts import collect_facts
    from codemods.analysis.source import parse_source, read_script

    text = str(path_or_source)
    if isinstance(path_or_source, Path) or ("\n" not in text and text.endswith((".py", ".pyw"))):
        filename = filename or text
        source = read_script(text)
    else:
        source = text
        filename = filename or "<string>"
    if facts is None:
        if module is None:
            module = parse_source(source, filename)  # the gate: nothing that can crash libcst reaches it
        facts = collect_facts(module, filename)
    if report is None:
        report = analyze_source(source, filename=filename, facts=facts)
    script = _Script(facts, report, filename)
    for check in CHECKS:
        check(script)
    findings = sorted(script.findings, key=lambda f: (f.line or 0, f.code))
    return CheckReport(filename=filename, findings=findings, integrated=not any(f.code in REQUIRED for f in findings))


class _Script:
    """The checked script as the steps read it: its facts and analysis, its tracker calls by name, where each
    node is, and the findings so far."""

    def __init__(self, facts, report, filename: str) -> None:
        self.facts, self.report, self.filename = facts, report, filename
        self.module: cst.Module = facts.module
        self.code = facts.code
        self.parents, self.lines = facts.parents, facts.statements
        self.calls: dict[str, list[cst.Call]] = {}  # `x.attr(...)` calls by attribute name, in source order
        for fact in facts.calls:
            if isinstance(fact.node.func, cst.Attribute):
                self.calls.setdefault(fact.node.func.attr.value, []).append(fact.node)
        self.perforates = self.named("perforate_model", "initialize_pai")
        self.validations = self.named("add_validation_score")
        self.setups = self.named("setup_optimizer")
        self.instances = self.named("set_optimizer_instance")
        self.extras = self.named("add_extra_score", "add_test_score", "add_extra_score_without_graphing")
        self.config_calls = [c for cs in self.calls.values() for c in cs
                             if m.matches(c.func, m.Attribute(value=m.Attribute(attr=m.Name("pc"))))]
        self.findings: list[Finding] = []

    def add(self, code: str, node: cst.CSTNode | None, severity: Severity, message: str,
            line: int | None = None) -> None:
        declared(code)  # an undeclared code raises: check_codes.py is the one list
        if node is not None and line is None:
            line = self.line_of(node)
        self.findings.append(Finding(code=code, severity=severity, message=message, file=self.filename, line=line))

    def named(self, *attrs: str) -> list[cst.Call]:
        return [c for attr in attrs for c in self.calls.get(attr, [])]

    def line_of(self, node: cst.CSTNode) -> int:
        return self.lines.start.get(node) or self.lines.start[self.statement(node)]

    def end_of(self, node: cst.CSTNode) -> int:
        return self.lines.end[node]

    def ancestors(self, node: cst.CSTNode):
        parents = self.parents
        while node in parents:
            node = parents[node]
            yield node

    def statement(self, node: cst.CSTNode) -> cst.CSTNode:
        for parent in self.ancestors(node):
            if isinstance(parent, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return parent
        return node

    def function_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The function a node runs in (None: the module)."""
        return next((a for a in self.ancestors(node) if isinstance(a, cst.FunctionDef)), None)

    def loop_of(self, node: cst.CSTNode) -> cst.For | cst.While | None:
        return next((a for a in self.ancestors(node) if isinstance(a, (cst.For, cst.While))), None)

    def ifs_in(self, node: cst.CSTNode) -> list[cst.If]:
        """Every `if` (and `elif`) inside `node`, in source order."""
        if node is self.module:
            return [f.node for f in self.facts.ifs]
        return [f.node for f in self.facts.ifs if any(a is node for a in self.ancestors(f.node))]

    def inside_restructure(self, line: int) -> bool:
        """True when a line is inside an `if restructured:`-style branch (a rebuilt optimizer)."""
        restructure = m.If(test=m.Name(m.MatchRegex(r".*restructur.*")))
        return any(m.matches(f.node, restructure) and self.line_of(f.node) <= line <= self.end_of(f.node)
                   for f in self.facts.ifs)


# ------------------------------------------------------------------------------------------------ steps
def _check_components(s: _Script) -> None:
    """Every required piece is there (a framework callback does the tracker's part itself)."""
    if s.report.integration.package == "none" and not s.report.integration.aliases:
        s.add("PAI101", None, "error", "the dendrite library is not imported: add `from pai_core import "
              "globals_perforatedai as GPA` and `from pai_core import utils_perforatedai as UPA`")
    if not s.config_calls:
        s.add("PAI102", None, "warning", "no GPA.pc settings: the library defaults are used (capacity test on, "
              "default module names); run `pai perforate` or set them before perforate_model")
    callback = s.report.training_library.pai_callback  # it perforates, registers and feeds the tracker itself
    if not s.perforates and not callback:
        s.add("PAI103", None, "error", "UPA.perforate_model is never called: the model gets no dendrites")
    if not s.setups and not s.instances and not callback:
        s.add("PAI105", None, "error", "the optimizer is not registered with the tracker (setup_optimizer or "
              "set_optimizer_instance); add_validation_score needs it")
    if not s.validations and not callback:
        s.add("PAI106", None, "error", "add_validation_score is never called: dendrites are never added")


def _check_perforate_placement(s: _Script) -> None:
    """perforate_model before the optimizer and the training loop, with the metric's direction."""
    for line, built_before in s.report.integration.optimizers_before_perforate.items():  # in call order
        opt_line = next((o for o in built_before if not s.inside_restructure(o)), None)
        if opt_line is not None:
            s.add("PAI104", None, "error", f"perforate_model (line {line}) runs after the optimizer is built "
                  f"(line {opt_line}): build the optimizer from the perforated model", line=line)
    loop = s.lines.by_line.get(s.report.epoch_loop.line or 0)
    for call in s.perforates:
        line = s.line_of(call)
        if isinstance(loop, (cst.For, cst.While)) and line > s.end_of(loop) and s.function_of(loop) is s.function_of(call):
            s.add("PAI117", call, "error", f"perforate_model (line {line}) comes after the training loop (lines "
                  f"{s.line_of(loop)}-{s.end_of(loop)}): the model trains without dendrites; perforate it right "
                  "after it is built")
        _check_direction(s, call)


def _check_direction(s: _Script, call: cst.Call) -> None:
    """PAI111: `maximizing_score` (default True) against the direction of the validation metric."""
    direction, metric = s.report.validation.direction, s.report.validation.metric
    value = next((s.code(arg.value) for arg in call.args if arg.keyword and arg.keyword.value == "maximizing_score"),
                 None)
    if value is None and direction == "minimize":
        s.add("PAI111", call, "error", f"the validation metric `{metric}` is minimized but perforate_model has no "
              "maximizing_score (library default True): pass maximizing_score=False")
    elif value == "True" and direction == "minimize":
        s.add("PAI111", call, "error", f"maximizing_score=True but the validation metric `{metric}` is minimized "
              "(a loss/error): pass maximizing_score=False")
    elif value == "False" and direction == "maximize":
        s.add("PAI111", call, "error", f"maximizing_score=False but the validation metric `{metric}` is maximized "
              "(an accuracy/score): pass maximizing_score=True")


def _check_validation_hookup(s: _Script) -> None:
    """Each add_validation_score: its three results used, the model moved back, the optimizer rebuilt, the
    loop ending on training_complete, extra scores before it."""
    device_used = bool(s.named("to", "cuda")) and s.report.parallelism.accelerate is None  # prepare places it
    rebuild = s.report.integration.step("restructure_optimizer_rebuild")  # resolved calls, helpers that build one
    rebuild_lines = rebuild.lines if rebuild is not None and rebuild.status == "present" else []
    for call in s.validations:
        stmt = s.statement(call)
        targets = m.findall(stmt, m.AssignTarget(target=m.Tuple()))
        if not targets or len(targets[0].target.elements) != 3:  # type: ignore[attr-defined]
            s.add("PAI107", call, "error", "use `model, restructured, training_complete = "
                  "GPA.pai_tracker.add_validation_score(score, model)`: the returned model replaces yours")
            continue
        model_var, restructured, complete = [s.code(e.value) for e in targets[0].target.elements]  # type: ignore
        loop = s.loop_of(stmt)
        body = loop or s.module
        if device_used:
            _check_device_move(s, call, stmt, body, model_var)
        _check_branches(s, call, loop, body, restructured, complete, rebuild_lines)
        for extra in s.extras:
            if s.line_of(extra) > s.line_of(call) and loop is not None and s.line_of(extra) <= s.end_of(loop):
                s.add("PAI112", extra, "error", "add_extra_score comes after add_validation_score in the epoch: "
                      "the graphs are written during add_validation_score, so add extra scores first")


def _check_device_move(s: _Script, call: cst.Call, stmt: cst.CSTNode, body: cst.CSTNode, model_var: str) -> None:
    """PAI109: the model add_validation_score returns goes back to the device."""
    body_code = s.code(body)
    moved = re.search(rf"{re.escape(model_var)}(\s*=\s*{re.escape(model_var)})?\.(to|cuda)\(",
                      body_code[body_code.find(s.code(stmt)):])
    if not moved:
        s.add("PAI109", call, "warning", f"`{model_var}` is not moved back to the device after "
              "add_validation_score: the restructured model comes back on the CPU")


def _check_branches(s: _Script, call: cst.Call, loop: cst.For | cst.While | None, body: cst.CSTNode,
                    restructured: str, complete: str, rebuild_lines: list[int]) -> None:
    """PAI108: the optimizer rebuilt under `if restructured:`; PAI110: the loop stops on training_complete."""
    rebuilt = breaks_on_complete = False
    for branch in s.ifs_in(body):
        test = s.code(branch.test)  # type: ignore[attr-defined]
        if re.search(rf"\b{re.escape(restructured)}\b", test):
            rebuilt |= any(s.line_of(branch) <= ln <= s.end_of(branch) for ln in rebuild_lines)
        if re.search(rf"\b{re.escape(complete)}\b", test):
            breaks_on_complete |= bool(m.findall(branch.body, m.Break() | m.Return()) or  # type: ignore[attr-defined]
                                       "exit(" in s.code(branch.body))  # type: ignore[attr-defined]
    if not rebuilt:
        s.add("PAI108", call, "error", f"the optimizer is not re-created when `{restructured}` is true: after a "
              "restructure the old optimizer holds the old parameters (re-run the same setup_optimizer call)")
    if loop is None:
        s.add("PAI110", call, "warning", "add_validation_score is not inside a loop of this scope; make sure it "
              "runs once per epoch and the loop stops on training_complete")
    elif not breaks_on_complete:
        s.add("PAI110", call, "error", f"the loop never stops on `{complete}`: break out of it when training "
              "is complete")
    elif isinstance(loop, cst.For):
        bound = s.code(loop.iter)
        if not re.search(r"\d{5,}|1_000", bound):
            s.add("PAI110", loop, "warning", f"the epoch loop `for ... in {bound}` may end before training is "
                  "complete: use `while True:` (or a very large bound)")


_MAIN_PROCESS = re.compile(r"is_(local_)?main_process|(local_)?process_index|\brank\b|local_rank")


def _check_accelerate(s: _Script) -> None:
    """HF Accelerate loops: every process feeds the tracker the unwrapped model, and a restructure goes through
    `prepare` again (PAI013 writes it so)."""
    accelerate = s.report.parallelism.accelerate
    if accelerate is None:
        return
    name, code = accelerate.accelerator, s.code
    prepared = {t for p in accelerate.prepares for t in p.targets}
    for call in s.perforates:
        model = code(call.args[0].value) if call.args else None  # type: ignore[attr-defined]
        prepare = accelerate.prepare_of(model)
        if prepare is not None and s.line_of(call) > prepare.line:
            s.add("PAI123", call, "error", f"perforate_model comes after `{name}.prepare(...)` (line "
                  f"{prepare.line}): the prepared wrapper does not know the dendrites; perforate the model right "
                  "after it is built")
    for call in s.validations:
        args = [code(a.value) for a in call.args]  # type: ignore[attr-defined]
        if len(args) > 1 and args[1] in prepared:
            s.add("PAI120", call, "error", f"add_validation_score gets the prepared `{args[1]}`: pass "
                  f"`{name}.unwrap_model({args[1]})` (the perforated model itself) on every process")
        gate = next((a for a in s.ancestors(call) if isinstance(a, cst.If) and _MAIN_PROCESS.search(code(a.test))),
                    None)
        if gate is not None:
            s.add("PAI122", call, "error", f"add_validation_score runs only under `if {code(gate.test)}:`; every "
                  "process must call it (rank 0 decides and broadcasts, the others wait for it): compute the score "
                  "on every process (gather_for_metrics) and call it outside that block")
        branches = [b for b in m.findall(s.loop_of(call) or call, m.If())
                    if re.search(r"\brestructured\b", code(b.test))]  # type: ignore[attr-defined]
        prepare_call = m.Call(func=m.Attribute(attr=m.Name("prepare")))
        prepares = [c for b in branches for c in m.findall(b.body, prepare_call)]  # type: ignore[attr-defined]
        if branches and not any(code(c.func.value) == name for c in prepares):  # type: ignore[attr-defined]
            s.add("PAI121", branches[0], "error", f"after a restructure the model and the rebuilt optimizer must go "
                  f"through `{name}.prepare(...)` again (the old wrapper and optimizer hold the old parameters)")


def _check_optimizer_setup(s: _Script) -> None:
    """setup_optimizer's return shape, a scheduler the tracker steps stepped again, set_optimizer first."""
    for call in s.setups:
        stmt = s.statement(call)
        n_args = len([a for a in call.args if a.keyword is None])  # type: ignore[attr-defined]
        tuples = m.findall(stmt, m.AssignTarget(target=m.Tuple()))
        if n_args < 3 and tuples:
            s.add("PAI114", call, "error", "setup_optimizer without scheduler arguments returns only the "
                  "optimizer: assign it to one name")
        if n_args >= 3 and tuples:
            sched_var = s.code(tuples[0].target.elements[1].value)  # type: ignore[attr-defined]
            for step in s.report.scheduler_steps:
                if step.variable == sched_var:
                    s.add("PAI113", None, "error", f"`{step.text}` steps a scheduler the tracker already steps "
                          "(setup_optimizer with scheduler arguments): remove it", line=step.line)
    if s.setups and not s.named("set_optimizer"):
        s.add("PAI114", s.setups[0], "error", "setup_optimizer is called without set_optimizer(<class>) first")


def _check_config_values(s: _Script) -> None:
    """Module ids start with '.', and a reminder while the capacity test is on."""
    for call in s.config_calls:
        name = call.func.attr.value  # type: ignore[attr-defined]
        if "module_ids" in name:
            for string in m.findall(call, m.SimpleString()):
                value = string.evaluated_value  # type: ignore[attr-defined]
                if isinstance(value, str) and not value.startswith("."):
                    s.add("PAI116", call, "error", f"module id {value!r} must start with '.' (e.g. '.{value}')")
        if name == "set_testing_dendrite_capacity" and call.args and s.code(call.args[0].value) == "True":  # type: ignore
            s.add("PAI115", call, "info", "the dendrite capacity test is on: after 'Successfully added 3 "
                  "dendrites' run `pai perforate --capacity-test off` for the real experiment")


def _check_import_order(s: _Script) -> None:
    """PAI118: the library's names used above the import that binds them (a NameError when that line runs)."""
    for name, use, imported in _used_before_import(s.facts):
        s.add("PAI118", use, "error", f"`{name}` is used on line {s.line_of(use)} before it is imported (line "
              f"{s.line_of(imported)}): move the import up to the script's first import block")


_LIBRARIES = ("pai_core", "perforatedai")


def _used_before_import(facts):
    """(name, use, import statement) for each name bound by a pai_core/perforatedai import that an earlier
    statement of the same block uses when it runs (uses inside a function defined there run later)."""
    from libcst.helpers import get_full_name_for_node

    parents = facts.parents
    for imp in facts.import_nodes:
        source = get_full_name_for_node(imp.module) if isinstance(imp, cst.ImportFrom) and imp.module else ""
        if isinstance(imp, cst.ImportFrom) and (imp.relative or isinstance(imp.names, cst.ImportStar)):
            continue
        stmt = parents[imp]
        block = parents.get(stmt)
        body = list(block.body) if isinstance(block, (cst.Module, cst.IndentedBlock)) else []
        if stmt not in body:
            continue
        earlier = body[: body.index(stmt)]
        for alias in imp.names:  # type: ignore[union-attr]
            full = f"{source}.{get_full_name_for_node(alias.name)}" if source else get_full_name_for_node(alias.name)
            if not full or full.split(".", 1)[0] not in _LIBRARIES:
                continue
            bound = alias.asname.name.value if alias.asname else get_full_name_for_node(alias.name).split(".")[0]
            for use in facts.names.get(bound, []):
                parent = parents.get(use)
                if isinstance(parent, cst.Attribute) and parent.attr is use:  # `x.GPA` is not the name GPA
                    continue
                top = _direct_child(parents, use, block)
                if top is not None and any(top is e for e in earlier):
                    yield bound, use, stmt
                    break


def _direct_child(parents, node: cst.CSTNode, block: cst.CSTNode) -> cst.CSTNode | None:
    """The statement of `block` that holds `node`, or None when `node` sits in a function body (runs later)."""
    child = node
    parent = parents.get(child)
    while parent is not None and parent is not block:
        if isinstance(parent, cst.Lambda) or (isinstance(parent, cst.FunctionDef) and child is parent.body):
            return None
        child, parent = parent, parents.get(parent)
    return child if parent is block else None


_CONV_RANK = {"Conv1d": 3, "Conv2d": 4, "Conv3d": 5}  # (batch, channels, *spatial)
_FLAT = ("mlp", "cnn", "resnet")  # architectures whose Linear layers see (batch, features)


def _check_output_dimensions(s: _Script) -> None:
    """PAI119: the configured output dimensions against the rank each perforated layer kind outputs."""
    call, dims = _last_literal(s, "set_output_dimensions")
    _, names = _last_literal(s, "set_module_names_to_perforate")
    if not isinstance(dims, list) or not isinstance(names, list):
        return
    for name in names:
        rank = _CONV_RANK.get(name)
        trimmed = rank == 3 and all(d == -1 for d in dims[3:]) and 0 in dims[:3]  # pai_core trims Conv1d's
        if rank is not None and len(dims) != rank and not trimmed:
            s.add("PAI119", call, "error", f"{name} outputs {rank} dimensions (batch, channels, ...) but "
                  f"set_output_dimensions({dims}) has {len(dims)}: use [-1, 0{', -1' * (rank - 2)}]")
    architecture = s.report.model.architecture
    if "Linear" in names and architecture in _FLAT and 0 not in dims[:2]:
        s.add("PAI119", call, "warning", f"the Linear layers of this {architecture} output (batch, features) but "
              f"set_output_dimensions({dims}) puts the neuron axis elsewhere: use [-1, 0] or a per-layer setting")


def _last_literal(s: _Script, setter: str) -> tuple[cst.Call | None, object]:
    """The last `GPA.pc.<setter>(value)` call and its value as a Python literal (None when it is not one)."""
    import ast

    for call in reversed(s.config_calls):
        if call.func.attr.value == setter and call.args:  # type: ignore[attr-defined]
            try:
                return call, ast.literal_eval(s.code(call.args[0].value))
            except (ValueError, SyntaxError):
                return call, None
    return None, None


CHECKS = (_check_components, _check_perforate_placement, _check_validation_hookup, _check_accelerate,
          _check_optimizer_setup, _check_config_values, _check_output_dimensions, _check_import_order)
