"""Static verification of a dendrite integration: is every piece there, in the right place and consistent?

`check_integration(path_or_source)` reads the script (never runs it) and returns findings with codes, lines
and severities. It catches the mistakes the workflow's debugging notes list as the common ones: the tracker
never called, the optimizer not rebuilt after a restructure, a fixed-range loop that ends before training is
complete, `maximizing_score` contradicting the metric, extra scores after add_validation_score, a scheduler
stepped twice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import libcst as cst
import libcst.matchers as m
from pydantic import BaseModel, Field

__all__ = ["CheckFinding", "CheckReport", "check_integration"]

Severity = Literal["error", "warning", "info"]


class CheckFinding(BaseModel):
    code: str
    line: int | None = None
    severity: Severity
    message: str


class CheckReport(BaseModel):
    filename: str
    findings: list[CheckFinding] = []
    integrated: bool = Field(description="every required component is present")

    @property
    def errors(self) -> list[CheckFinding]:
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
    module = facts.module
    if report is None:
        report = analyze_source(source, filename=filename, facts=facts)
    parents, lines = facts.parents, facts.statements
    calls: dict[str, list[cst.Call]] = {}  # `x.attr(...)` calls by attribute name, in source order
    for fact in facts.calls:
        if isinstance(fact.node.func, cst.Attribute):
            calls.setdefault(fact.node.func.attr.value, []).append(fact.node)

    def line_of(node: cst.CSTNode) -> int:
        return lines.start.get(node) or lines.start[statement(node)]

    def end_of(node: cst.CSTNode) -> int:
        return lines.end[node]

    def scope(node: cst.CSTNode) -> cst.CSTNode | None:
        """The function a node runs in (None: the module)."""
        return next((a for a in ancestors(node) if isinstance(a, cst.FunctionDef)), None)

    def named(*attrs: str) -> list[cst.Call]:
        return [c for attr in attrs for c in calls.get(attr, [])]
    findings: list[CheckFinding] = []

    def add(code: str, node: cst.CSTNode | None, severity: Severity, message: str, line: int | None = None) -> None:
        if node is not None and line is None:
            line = line_of(node)
        findings.append(CheckFinding(code=code, line=line, severity=severity, message=message))

    code = facts.code

    def ancestors(node: cst.CSTNode):
        while node in parents:
            node = parents[node]
            yield node

    def statement(node: cst.CSTNode) -> cst.CSTNode:
        for parent in ancestors(node):
            if isinstance(parent, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return parent
        return node

    def ifs_in(node: cst.CSTNode) -> list[cst.If]:
        """Every `if` (and `elif`) inside `node`, in source order."""
        if node is module:
            return [f.node for f in facts.ifs]
        return [f.node for f in facts.ifs if any(a is node for a in ancestors(f.node))]

    perforates = named("perforate_model", "initialize_pai")
    validations = named("add_validation_score")
    setups = named("setup_optimizer")
    instances = named("set_optimizer_instance")
    extras = named("add_extra_score", "add_test_score", "add_extra_score_without_graphing")
    config_calls = [c for cs in calls.values() for c in cs
                    if m.matches(c.func, m.Attribute(value=m.Attribute(attr=m.Name("pc"))))]

    # 1. components present
    if report.integration.package == "none" and not report.integration.aliases:
        add("PAI101", None, "error", "the dendrite library is not imported: add `from pai_core import "
            "globals_perforatedai as GPA` and `from pai_core import utils_perforatedai as UPA`")
    if not config_calls:
        add("PAI102", None, "warning", "no GPA.pc settings: the library defaults are used (capacity test on, "
            "default module names); run `pai perforate` or set them before perforate_model")
    callback = report.training_library.pai_callback  # it perforates, registers and feeds the tracker itself
    if not perforates and not callback:
        add("PAI103", None, "error", "UPA.perforate_model is never called: the model gets no dendrites")
    if not setups and not instances and not callback:
        add("PAI105", None, "error", "the optimizer is not registered with the tracker (setup_optimizer or "
            "set_optimizer_instance); add_validation_score needs it")
    if not validations and not callback:
        add("PAI106", None, "error", "add_validation_score is never called: dendrites are never added")

    # 2. perforate_model before the optimizer / device moves
    for line, built_before in report.integration.optimizers_before_perforate.items():  # in call order
        opt_line = next((o for o in built_before if not _inside_restructure(o, facts, line_of, end_of)), None)
        if opt_line is not None:
            add("PAI104", None, "error", f"perforate_model (line {line}) runs after the optimizer is built "
                f"(line {opt_line}): build the optimizer from the perforated model", line=line)
    for call in perforates:
        line = line_of(call)
        loop = lines.by_line.get(report.epoch_loop.line or 0)
        if isinstance(loop, (cst.For, cst.While)) and line > end_of(loop) and scope(loop) is scope(call):
            add("PAI117", call, "error", f"perforate_model (line {line}) comes after the training loop (lines "
                f"{line_of(loop)}-{end_of(loop)}): the model trains without dendrites; perforate it right after "
                "it is built")
        for arg in call.args:  # type: ignore[attr-defined]
            if arg.keyword and arg.keyword.value == "maximizing_score":
                _check_direction(code(arg.value), report, call, add)
                break
        else:
            if report.validation.direction == "minimize":
                add("PAI111", call, "error", f"the validation metric `{report.validation.metric}` is minimized but "
                    "perforate_model has no maximizing_score (library default True): pass maximizing_score=False")

    # 3. the validation hookup
    accelerate = report.parallelism.accelerate
    device_used = bool(named("to", "cuda")) and accelerate is None  # accelerator.prepare places the model
    rebuild = report.integration.step("restructure_optimizer_rebuild")  # resolved calls, a helper that builds one too
    rebuild_lines = rebuild.lines if rebuild is not None and rebuild.status == "present" else []
    for call in validations:
        stmt = statement(call)
        targets = m.findall(stmt, m.AssignTarget(target=m.Tuple()))
        if not targets or len(targets[0].target.elements) != 3:  # type: ignore[attr-defined]
            add("PAI107", call, "error", "use `model, restructured, training_complete = "
                "GPA.pai_tracker.add_validation_score(score, model)`: the returned model replaces yours")
            continue
        names = [code(e.value) for e in targets[0].target.elements]  # type: ignore[attr-defined]
        model_var, restructured, complete = names
        loop = next((a for a in ancestors(stmt) if isinstance(a, (cst.For, cst.While))), None)
        scope = loop or module
        body_code = code(scope)
        if device_used and not re.search(rf"{re.escape(model_var)}(\s*=\s*{re.escape(model_var)})?\.(to|cuda)\(",
                                         body_code[body_code.find(code(stmt)):]):
            add("PAI109", call, "warning", f"`{model_var}` is not moved back to the device after "
                "add_validation_score: the restructured model comes back on the CPU")
        rebuilt = False
        breaks_on_complete = False
        for branch in ifs_in(scope):
            test = code(branch.test)  # type: ignore[attr-defined]
            if re.search(rf"\b{re.escape(restructured)}\b", test):
                rebuilt |= any(line_of(branch) <= ln <= end_of(branch) for ln in rebuild_lines)
            if re.search(rf"\b{re.escape(complete)}\b", test):
                breaks_on_complete |= bool(m.findall(branch.body, m.Break() | m.Return()) or  # type: ignore[attr-defined]
                                           "exit(" in code(branch.body))  # type: ignore[attr-defined]
        if not rebuilt:
            add("PAI108", call, "error", f"the optimizer is not re-created when `{restructured}` is true: after a "
                "restructure the old optimizer holds the old parameters (re-run the same setup_optimizer call)")
        if loop is None:
            add("PAI110", call, "warning", "add_validation_score is not inside a loop of this scope; make sure it "
                "runs once per epoch and the loop stops on training_complete")
        elif not breaks_on_complete:
            add("PAI110", call, "error", f"the loop never stops on `{complete}`: break out of it when training "
                "is complete")
        elif isinstance(loop, cst.For):
            bound = code(loop.iter)
            if not re.search(r"\d{5,}|1_000", bound):
                add("PAI110", loop, "warning", f"the epoch loop `for ... in {bound}` may end before training is "
                    "complete: use `while True:` (or a very large bound)")
        # 4. extra scores must come before add_validation_score in the same epoch
        for extra in extras:
            if line_of(extra) > line_of(call) and loop is not None and line_of(extra) <= end_of(loop):
                add("PAI112", extra, "error", "add_extra_score comes after add_validation_score in the epoch: the "
                    "graphs are written during add_validation_score, so add extra scores first")

    if accelerate is not None:
        _check_accelerate(accelerate, validations, perforates, ancestors, code, line_of, add)

    # 5. optimizer / scheduler consistency
    for call in setups:
        stmt = statement(call)
        n_args = len([a for a in call.args if a.keyword is None])  # type: ignore[attr-defined]
        tuple_target = bool(m.findall(stmt, m.AssignTarget(target=m.Tuple())))
        if n_args < 3 and tuple_target:
            add("PAI114", call, "error", "setup_optimizer without scheduler arguments returns only the optimizer: "
                "assign it to one name")
        if n_args >= 3 and tuple_target:
            sched_var = code(m.findall(stmt, m.AssignTarget(target=m.Tuple()))[0].target.elements[1].value)  # type: ignore
            for step in report.scheduler_steps:
                if step.variable == sched_var:
                    add("PAI113", None, "error", f"`{step.text}` steps a scheduler the tracker already steps "
                        "(setup_optimizer with scheduler arguments): remove it", line=step.line)
    if setups and not named("set_optimizer"):
        add("PAI114", setups[0], "error", "setup_optimizer is called without set_optimizer(<class>) first")

    # 6. config values
    for call in config_calls:
        name = call.func.attr.value  # type: ignore[attr-defined]
        if "module_ids" in name:
            for s in m.findall(call, m.SimpleString()):
                value = s.evaluated_value  # type: ignore[attr-defined]
                if isinstance(value, str) and not value.startswith("."):
                    add("PAI116", call, "error", f"module id {value!r} must start with '.' (e.g. '.{value}')")
        if name == "set_testing_dendrite_capacity" and call.args and code(call.args[0].value) == "True":  # type: ignore
            add("PAI115", call, "info", "the dendrite capacity test is on: after 'Successfully added 3 dendrites' "
                "run `pai perforate --capacity-test off` for the real experiment")

    _check_output_dimensions(config_calls, code, report, add)

    # 7. the library's names used above the import that binds them (a NameError when that line runs)
    for name, use, imported in _used_before_import(facts):
        add("PAI118", use, "error", f"`{name}` is used on line {line_of(use)} before it is imported (line "
            f"{line_of(imported)}): move the import up to the script's first import block")

    findings.sort(key=lambda f: (f.line or 0, f.code))
    required = {"PAI101", "PAI103", "PAI105", "PAI106"}
    return CheckReport(filename=filename, findings=findings,
                       integrated=not any(f.code in required for f in findings))


_MAIN_PROCESS = re.compile(r"is_(local_)?main_process|(local_)?process_index|\brank\b|local_rank")


def _check_accelerate(accelerate, validations, perforates, ancestors, code, line_of, add) -> None:
    """HF Accelerate loops: every process feeds the tracker the unwrapped model, and a restructure goes through
    `prepare` again (PAI013 writes it so)."""
    name = accelerate.accelerator
    prepared = {t for p in accelerate.prepares for t in p.targets}
    for call in perforates:
        model = code(call.args[0].value) if call.args else None  # type: ignore[attr-defined]
        prepare = accelerate.prepare_of(model)
        if prepare is not None and line_of(call) > prepare.line:
            add("PAI123", call, "error", f"perforate_model comes after `{name}.prepare(...)` (line {prepare.line}): "
                "the prepared wrapper does not know the dendrites; perforate the model right after it is built")
    for call in validations:
        args = [code(a.value) for a in call.args]  # type: ignore[attr-defined]
        if len(args) > 1 and args[1] in prepared:
            add("PAI120", call, "error", f"add_validation_score gets the prepared `{args[1]}`: pass "
                f"`{name}.unwrap_model({args[1]})` (the perforated model itself) on every process")
        gate = next((a for a in ancestors(call) if isinstance(a, cst.If) and _MAIN_PROCESS.search(code(a.test))),
                    None)
        if gate is not None:
            add("PAI122", call, "error", f"add_validation_score runs only under `if {code(gate.test)}:`; every "
                "process must call it (rank 0 decides and broadcasts, the others wait for it): compute the score on "
                "every process (gather_for_metrics) and call it outside that block")
        loop = next((a for a in ancestors(call) if isinstance(a, (cst.For, cst.While))), None)
        branches = [b for b in m.findall(loop or call, m.If())
                    if re.search(r"\brestructured\b", code(b.test))]  # type: ignore[attr-defined]
        prepare_call = m.Call(func=m.Attribute(attr=m.Name("prepare")))
        prepares = [c for b in branches for c in m.findall(b.body, prepare_call)]  # type: ignore[attr-defined]
        if branches and not any(code(c.func.value) == name for c in prepares):  # type: ignore[attr-defined]
            add("PAI121", branches[0], "error", f"after a restructure the model and the rebuilt optimizer must go "
                f"through `{name}.prepare(...)` again (the old wrapper and optimizer hold the old parameters)")


def _check_direction(value: str, report, call, add) -> None:
    direction = report.validation.direction
    metric = report.validation.metric
    if value == "True" and direction == "minimize":
        add("PAI111", call, "error", f"maximizing_score=True but the validation metric `{metric}` is minimized "
            "(a loss/error): pass maximizing_score=False")
    elif value == "False" and direction == "maximize":
        add("PAI111", call, "error", f"maximizing_score=False but the validation metric `{metric}` is maximized "
            "(an accuracy/score): pass maximizing_score=True")


def _inside_restructure(line: int, facts, line_of, end_of) -> bool:
    """True when a line is inside an `if restructured:`-style branch (a rebuilt optimizer)."""
    for fact in facts.ifs:
        branch = fact.node
        if not m.matches(branch, m.If(test=m.Name(m.MatchRegex(r".*restructur.*")))):
            continue
        start, end = line_of(branch), end_of(branch)
        if start <= line <= end:
            return True
    return False


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


def _check_output_dimensions(config_calls, code, report, add) -> None:
    """PAI119: the configured output dimensions against the rank each perforated layer kind outputs."""
    import ast

    def literal(name: str):
        for call in reversed(config_calls):
            if call.func.attr.value == name and call.args:
                try:
                    return call, ast.literal_eval(code(call.args[0].value))
                except (ValueError, SyntaxError):
                    return call, None
        return None, None

    call, dims = literal("set_output_dimensions")
    _, names = literal("set_module_names_to_perforate")
    if not isinstance(dims, list) or not isinstance(names, list):
        return
    for name in names:
        rank = _CONV_RANK.get(name)
        trimmed = rank == 3 and all(d == -1 for d in dims[3:]) and 0 in dims[:3]  # pai_core trims Conv1d's
        if rank is not None and len(dims) != rank and not trimmed:
            add("PAI119", call, "error", f"{name} outputs {rank} dimensions (batch, channels, ...) but "
                f"set_output_dimensions({dims}) has {len(dims)}: use [-1, 0{', -1' * (rank - 2)}]")
    if "Linear" in names and report.model.architecture in _FLAT and 0 not in dims[:2]:
        add("PAI119", call, "warning", f"the Linear layers of this {report.model.architecture} output (batch, "
            f"features) but set_output_dimensions({dims}) puts the neuron axis elsewhere: use [-1, 0] or a "
            "per-layer setting")

