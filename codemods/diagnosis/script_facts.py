"""Facts about the user's training script that confirm or rule out a cause, with the lines to point at.

Nothing here reads the source text to decide what the script does: every fact comes from the static analysis
(`codemods.analysis`: calls by resolved name, libcst spans) and from `pai check`'s findings, the one place
that understands a script. The source lines are kept only to quote a line back to the user. A script the
analysis cannot parse gives no facts; the diagnosis then rests on the pasted text alone.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

_PACKAGES = ("pai_core", "perforatedai")
# Names of the two earlier generations of the upstream API (camelCase era and mid-2025 snake_case).
LEGACY_CALLS = frozenset({
    "initialize_pai", "initializePB", "convertNetwork", "addValidationScore", "addExtraScore", "addTestScore",
    "setupOptimizer", "setOptimizer", "setOptimizerInstance", "setThisInputDimensions",
    "set_this_input_dimensions", "set_input_dimensions",
})


class Layer(BaseModel):
    """A layer the model builds: `self.<attribute> = <kind>(...)` in class `owner`."""

    attribute: str
    kind: str
    owner: str | None = None
    line: int


class CheckIssue(BaseModel):
    """One `pai check` finding on the script."""

    code: str
    line: int | None = None
    severity: str
    message: str


class ScriptFacts(BaseModel):
    path: str
    source_lines: list[str] = Field(default_factory=list, repr=False, description="only to quote lines back")
    analysis_used: bool = False
    model_variable: str = Field("model", description="the script's own name for the perforated model")
    perforate_model_line: int | None = None
    perforate_argument: str | None = Field(None, description="perforate_model's first argument as written")
    perforate_in_function: str | None = None
    model_built_line: int | None = Field(None, description="where the perforated model is constructed")
    optimizer_line: int | None = None
    setup_optimizer_line: int | None = None
    set_optimizer_line: int | None = None
    set_optimizer_condition: str | None = Field(None, description="`if <this>:` guards set_optimizer")
    set_optimizer_instance_line: int | None = None
    add_validation_score_line: int | None = None
    validation_model_argument: str | None = Field(None, description="the model add_validation_score gets")
    validation_call: tuple[str, str, list[str]] | None = Field(
        None, description="(targets, callee, arguments) of add_validation_score as written")
    validation_metric: str | None = None
    main_block: tuple[int, int] | None = Field(None, description="lines of the `__main__` guard block")
    first_tracker_call_line: int | None = Field(None, description="first tracker call beside perforate_model")
    restructure_branch_line: int | None = None
    optimizer_rebuilt_on_restructure: bool | None = None
    to_device_after_validation: bool | None = None
    output_dimensions: list[int] | None = None
    output_dimensions_line: int | None = None
    this_output_dimensions_lines: list[int] = Field(default_factory=list)
    dataparallel_line: int | None = None
    ddp_line: int | None = None
    wrapper_variable: str | None = Field(None, description="the variable holding the DataParallel/DDP")
    tracker_given_wrapper: bool | None = None
    capacity_test: bool | None = None
    capacity_test_line: int | None = None
    configuration_confirmed: bool | None = None
    configuration_confirmed_line: int | None = None
    processors_configured: bool | None = None
    scheduler_step_line: int | None = None
    grad_scaler_line: int | None = None
    while_true_loop: bool | None = None
    for_range_loop_line: int | None = None
    epoch_loop_line: int | None = None
    calls_add_validation_score: bool | None = None
    maximizing_score: bool | None = None
    legacy_name_lines: list[int] = Field(default_factory=list)
    legacy_names: list[str] = Field(default_factory=list)
    layers: list[Layer] = Field(default_factory=list)
    layer_classes: dict[str, str] = Field(default_factory=dict, description="attribute -> layer class")
    perforated_kinds: list[str] | None = Field(None, description="module_names_to_perforate as configured")
    tracker_calls_in_init: list[tuple[int, str]] = Field(
        default_factory=list, description="(line, Class.__init__): tracker calls while a model is built"
    )
    call_lines: dict[str, list[int]] = Field(
        default_factory=dict, description="callee (resolved name; for the library's also the method) -> lines"
    )
    used_before_import_lines: list[int] = Field(default_factory=list)
    import_lines: list[int] = Field(default_factory=list, description="imports of pai_core / perforatedai")
    string_lines: dict[str, list[int]] = Field(default_factory=dict, description="string literal -> lines")
    check: list[CheckIssue] = Field(default_factory=list)

    def code(self, line: int | None) -> str:
        if line is None or not 1 <= line <= len(self.source_lines):
            return ""
        return self.source_lines[line - 1].strip()

    def issues(self, code: str, severity: str = "error") -> list[CheckIssue]:
        return [f for f in self.check if f.code == code and f.severity == severity]


def collect_facts(script: str | Path) -> ScriptFacts:
    """Read the script and gather the analysis' and `pai check`'s facts about it."""
    path = Path(script)
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(
            f"cannot read the script {path}: {exc.strerror or exc}. Pass the training script's path."
        ) from exc
    facts = ScriptFacts(path=str(path), source_lines=source.splitlines())
    try:
        _fill(facts, path)
    except Exception as exc:  # noqa: BLE001 - optional evidence: its failure must not hide the diagnosis
        log.warning("static analysis failed on %s (%s); diagnosing from the text alone", path, exc)
        return ScriptFacts(path=str(path), source_lines=facts.source_lines)
    return facts


def _fill(facts: ScriptFacts, path: Path) -> None:
    from codemods.analysis import analyze_source
    from codemods.analysis.facts import collect_facts as raw_facts
    from codemods.analysis.source import parse_source, read_script
    from codemods.check import check_integration

    source = read_script(path)  # the analysis' own reading: declared encodings, size and binary checks
    module = parse_source(source, str(path))
    raw = raw_facts(module, str(path))
    report = analyze_source(source, str(path), module=module, path=path)
    checked = check_integration(source, filename=str(path), report=report, module=module)
    facts.check = [CheckIssue(**f.model_dump()) for f in checked.findings]
    ours = [c for c in raw.calls if c.qname.split(".", 1)[0] in _PACKAGES]
    _index(facts, raw, ours)
    _model(facts, report, raw, ours)
    _optimizer(facts, report, ours)
    validation = _validation(facts, report, raw, ours)
    _parallel(facts, report, raw, validation)
    _config(facts, report, raw, ours)
    facts.analysis_used = True


def _index(facts: ScriptFacts, raw, ours) -> None:
    """Lines of every call (by resolved name; the library's also by method) and of every string literal."""
    for c in raw.calls:
        facts.call_lines.setdefault(c.qname, []).append(c.line)
    for c in ours:
        facts.call_lines.setdefault(c.attr, []).append(c.line)
    for text, line in raw.strings:
        value = _literal(text)
        if isinstance(value, str):
            facts.string_lines.setdefault(value, []).append(line)


def _last(ours, *attrs: str):
    found = [c for c in ours if c.attr in attrs]
    return found[-1] if found else None


def _first_line(facts: ScriptFacts, *attrs: str) -> int | None:
    return min((ln for a in attrs for ln in facts.call_lines.get(a, [])), default=None)


def _model(facts: ScriptFacts, report, raw, ours) -> None:
    """The perforated model: its name, where it is built and perforated, its layers, the tracker calls."""
    perforate = report.integration.perforate_call
    if perforate is not None:
        facts.perforate_model_line = perforate.line
        flag = (perforate.maximizing_score or "").strip()
        facts.maximizing_score = {"True": True, "False": False}.get(flag)
        call = next((c for c in ours if c.line == perforate.line and c.attr == perforate.function), None)
        if call is not None:
            facts.perforate_argument = call.args[0] if call.args else None
            facts.perforate_in_function = call.function
            facts.model_variable = call.target_names[0] if call.target_names else facts.model_variable
    elif report.model.variable:
        facts.model_variable = report.model.variable
    facts.model_built_line = _construction_line(report, facts)
    tracker = [c.line for c in ours if "pai_tracker" in c.qname and perforate is not None
               and c.function == facts.perforate_in_function]
    facts.first_tracker_call_line = min(tracker, default=None)
    guard = next((i for i in raw.ifs if i.function is None and _is_main_guard(i.test)), None)
    facts.main_block = (guard.line, guard.end_line) if guard else None
    for layer in report.model.layers:
        if layer.attribute:
            facts.layers.append(Layer(attribute=layer.attribute, kind=layer.kind, owner=layer.owner,
                                      line=layer.line))
            facts.layer_classes.setdefault(layer.attribute, layer.kind)
    model_classes = {c.name for c in report.model.classes}
    facts.tracker_calls_in_init = [
        (c.line, c.function) for c in ours
        if "pai_tracker" in c.qname and (c.function or "").endswith(".__init__") and c.cls in model_classes
    ]


def _optimizer(facts: ScriptFacts, report, ours) -> None:
    facts.setup_optimizer_line = _first_line(facts, "setup_optimizer", "setupOptimizer")
    facts.set_optimizer_instance_line = _first_line(facts, "set_optimizer_instance", "setOptimizerInstance")
    setters = [c for c in ours if c.attr in ("set_optimizer", "setOptimizer")]
    if setters:
        facts.set_optimizer_line = setters[0].line
        flags = [_flag(c.conditions) for c in setters]
        if all(flags):
            facts.set_optimizer_condition = flags[0]
    built = report.optimizers[0].line if report.optimizers else None
    facts.optimizer_line = facts.setup_optimizer_line or built
    facts.scheduler_step_line = report.scheduler_steps[0].line if report.scheduler_steps else None
    scaler = [e.line for e in report.amp.evidence if "GradScaler" in e.text]
    facts.grad_scaler_line = scaler[0] if scaler else None


def _validation(facts: ScriptFacts, report, raw, ours):
    """The add_validation_score call (returned), its restructure branch and the epoch loop around it."""
    facts.validation_metric = report.validation.metric
    loop = report.epoch_loop
    facts.epoch_loop_line = loop.line
    facts.while_true_loop = {"while": True, "for-range": False}.get(loop.kind)
    facts.for_range_loop_line = loop.line if loop.kind == "for-range" else None
    validation = [c for c in ours if c.attr in ("add_validation_score", "addValidationScore")]
    facts.calls_add_validation_score = bool(validation)
    if not validation:
        return None
    call = validation[0]
    facts.add_validation_score_line = call.line
    facts.validation_model_argument = call.args[1] if len(call.args) > 1 else None
    facts.validation_call = (call.target or "", call.written, list(call.args))
    restructured = call.target_names[-2] if len(call.target_names) >= 3 else None
    branch = next((i for i in raw.ifs if restructured and restructured in i.names
                   and i.function == call.function and i.line > call.line), None)
    facts.restructure_branch_line = branch.line if branch else None
    integration = report.integration
    rebuild, moved = integration.step("restructure_optimizer_rebuild"), integration.step(
        "model_to_device_after_restructure")
    facts.optimizer_rebuilt_on_restructure = rebuild.status == "present" if rebuild else None
    if moved is not None and moved.status != "not_applicable":
        facts.to_device_after_validation = moved.status == "present"
    return call


def _config(facts: ScriptFacts, report, raw, ours) -> None:
    """The GPA.pc settings, the imports of the library and the older API names the script uses."""
    dims = _last(ours, "set_output_dimensions", "set_input_dimensions")
    if dims is not None:
        facts.output_dimensions_line = dims.line
        facts.output_dimensions = _literal(dims.args[0]) if dims.args else None
    facts.this_output_dimensions_lines = sorted(
        c.line for c in raw.calls if c.attr in ("set_this_output_dimensions", "set_this_input_dimensions"))
    names = _last(ours, "set_module_names_to_perforate", "set_modules_to_perforate")
    listed = _literal(names.args[0]) if names is not None and names.args else None
    facts.perforated_kinds = listed if isinstance(listed, list) else None
    integration = report.integration
    if integration.capacity_flag in ("True", "False"):
        facts.capacity_test = integration.capacity_flag == "True"
    facts.capacity_test_line = max(facts.call_lines.get("set_testing_dendrite_capacity", []), default=None)
    confirmed = _last(ours, "set_configuration_confirmed")
    facts.configuration_confirmed = bool(confirmed and confirmed.args and confirmed.args[0] in ("True", "1"))
    facts.configuration_confirmed_line = confirmed.line if confirmed else None
    facts.processors_configured = any("processing" in c.attr.lower() or "processor" in c.attr.lower()
                                      for c in ours)
    for c in ours:
        if c.attr in LEGACY_CALLS and c.attr not in facts.legacy_names:
            facts.legacy_names.append(c.attr)
            facts.legacy_name_lines.append(c.line)
    if integration.generation in ("initialize_pai", "pb") and not facts.legacy_names:
        facts.legacy_names.append(f"{integration.generation}-era API")
    facts.used_before_import_lines = [f.line for f in facts.issues("PAI118") if f.line]
    facts.import_lines = [i.line for i in report.imports if i.module.split(".", 1)[0] in _PACKAGES]


def _construction_line(report, facts: ScriptFacts) -> int | None:
    """Line of the last construction of the perforated model before perforate_model (or the first at all)."""
    argument = (facts.perforate_argument or "").strip()
    mine = [i for i in report.model.instances if i.variable in (argument, facts.model_variable)]
    before = [i for i in mine if facts.perforate_model_line is None or i.line < facts.perforate_model_line]
    chosen = before[-1] if before else (mine[0] if mine else None)
    return chosen.line if chosen else None


def _is_main_guard(condition: str) -> bool:
    """`__name__ == "__main__"` however it is spaced or quoted (the condition's tree, not its text)."""
    try:
        test = ast.parse(condition.strip(), mode="eval").body
    except SyntaxError:
        return False
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _flag(conditions: tuple[str, ...]) -> str | None:
    """The innermost condition that is a run-time flag (not the `__main__` guard)."""
    flags = [c for c in conditions if not _is_main_guard(c)]
    return flags[-1] if flags else None


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _parallel(facts: ScriptFacts, report, raw, validation) -> None:
    """Where the model is wrapped for data parallel, the wrapper's name, and whether the tracker gets it."""
    wrappers = [c for c in raw.calls
                if c.qname.rsplit(".", 1)[-1] in ("DataParallel", "DistributedDataParallel")]
    kind = report.parallelism.kind
    first = report.parallelism.evidence[0].line if report.parallelism.evidence else None
    if kind == "DataParallel" or any(c.qname.endswith("DataParallel") and "Distributed" not in c.qname
                                     for c in wrappers):
        facts.dataparallel_line = next((c.line for c in wrappers if "Distributed" not in c.qname), first)
    if kind == "DistributedDataParallel" or any("Distributed" in c.qname for c in wrappers):
        facts.ddp_line = next((c.line for c in wrappers if "Distributed" in c.qname), first)
    if not wrappers:
        return
    wrapped = {c.target_names[0] for c in wrappers if c.target_names}
    if facts.perforate_argument and any(c.line == facts.perforate_model_line for c in wrappers):
        wrapped.add(facts.model_variable)  # perforate_model(nn.DataParallel(net)): the result is the wrapper
    facts.wrapper_variable = next(iter(sorted(wrapped)), None)
    if validation is not None and facts.validation_model_argument is not None:
        facts.tracker_given_wrapper = facts.validation_model_argument.strip() in wrapped
