"""Existing dendrite integration: which steps are done, for every API generation and for pai_core.

Recognised: upstream `perforatedai` (current GPA/UPA, mid-2025 `UPA.initialize_pai`, PB-era `PBG`/`PBU`
camelCase) and `pai_core` (same module names). Calls are matched by qualified name, so any alias works.
"""

from __future__ import annotations

import re

from codemods.analysis.facts import CallFact, Facts
from codemods.analysis.report import Evidence, IntegrationInfo, IntegrationStep, PerforateCall
from pai_core.upstream_names import LEGACY_MODULES

__all__ = ["analyze_integration"]

_PACKAGES = ("perforatedai", "pai_core")
_ROLES = {
    "globals_perforatedai": "globals",
    "pb_globals": "globals",
    "globalsFile": "globals",
    "utils_perforatedai": "utils",
    "pb_utils": "utils",
    "library_perforatedai": "library",
    "models_perforatedai": "library",
    "pb_models": "library",
    "pb_network": "library",
    "tracker_perforatedai": "tracker",
    "pb_neuron_layer_tracker": "tracker",
    "network_perforatedai": "network",
    "blockwise_perforatedai": "blockwise",
    "clean_perforatedai": "clean",
}
_PB_MODULES = {*LEGACY_MODULES, "pb_neuron_layer_tracker"}
_PERFORATE = {
    "perforate_model": "current",
    "initialize_pai": "initialize_pai",
    "initializePB": "pb",
    "convertNetwork": "pb",
    "convert_network": "initialize_pai",
}
_REGISTER = {"setup_optimizer", "set_optimizer_instance", "setupOptimizer", "setOptimizerInstance"}
_VALIDATION = {"add_validation_score", "addValidationScore"}
_CAPACITY = re.compile(r"(set_)?testing_?dendrite_?capacity|testingDendriteCapacity", re.IGNORECASE)

PLAIN_STEPS = [
    "imports",
    "config",
    "perforate_model",
    "optimizer_registration",
    "add_validation_score",
    "restructure_optimizer_rebuild",
    "model_to_device_after_restructure",
    "training_complete_break",
]
HF_STEPS = ["imports", "config", "perforate_model", "library_validation_score", "trainer_using_perforatedai"]


def _ours(qname: str) -> bool:
    return qname.split(".", 1)[0] in _PACKAGES


class _Steps(dict[str, IntegrationStep]):
    """The integration steps found so far, by name, in the order they were first found."""

    def mark(self, name: str, lines: list[int], detail: str = "", status: str = "present") -> None:
        """Record step `name` at `lines`; a later mark of the same step adds its lines and sets its status."""
        step = self.setdefault(name, IntegrationStep(name=name, status=status))
        step.status = status
        step.lines = sorted(set(step.lines + lines))
        if detail:
            step.detail = detail


def analyze_integration(facts: Facts, library: str, model_vars: list[str]) -> IntegrationInfo:
    """Which dendrite integration steps the script already has, and in which API generation; a Hugging Face
    Trainer script has its own steps (the library validation score, the trainer flag)."""
    info = IntegrationInfo()
    steps = _Steps()
    generations = _import_step(facts, info, steps)
    ours = [c for c in facts.calls if _ours(c.qname)]
    for c in ours:
        info.calls.setdefault(c.attr, []).append(c.line)
    config_calls = [c for c in ours if ".pc." in c.qname or _is_pb_setting(c)]
    generations += _config_step(facts, config_calls, info, steps)
    generations += _perforate_step(ours, info, steps)
    hf = library == "huggingface_trainer"
    if hf:
        _trainer_steps(facts, config_calls, steps)
    else:
        generations += _training_loop_steps(facts, ours, model_vars, steps)
        if "model_to_device_after_restructure" not in steps and not _moved_to_device(facts, model_vars):
            steps.mark("model_to_device_after_restructure", [], "the model is never moved to a device",
                       "not_applicable")
    info.generation = _generation(generations, any(s.status == "present" for s in steps.values()))
    required = HF_STEPS if hf else PLAIN_STEPS
    for name in required:
        steps.setdefault(name, IntegrationStep(name=name, status="missing"))
    info.steps = [steps[n] for n in required] + [s for n, s in steps.items() if n not in required]
    info.missing = [s.name for s in info.steps if s.status == "missing" and s.name in required]
    present = [s for s in info.steps if s.status == "present"]
    info.level = "none" if not present else ("complete" if not info.missing else "partial")
    return info


def _import_step(facts: Facts, info: IntegrationInfo, steps: _Steps) -> list[str]:
    """The package's imports, the role of each alias, and the 2024 modules that need `pai migrate`; returns
    the API generations they show."""
    generations: list[str] = []
    import_lines: dict[str, list[int]] = {}
    for imp in facts.imports:
        full = imp.module if imp.name is None else f"{imp.module}.{imp.name}"
        root = full.split(".", 1)[0]
        if root not in _PACKAGES:
            continue
        info.package = "pai_core" if root == "pai_core" else "perforatedai"
        sub = full.split(".")[1] if "." in full else ""
        role = _ROLES.get(sub, sub or "package")
        info.aliases[imp.alias or (imp.name or full)] = role
        import_lines.setdefault(role, []).append(imp.line)
        if sub in _PB_MODULES:
            generations.append("pb")
            written = f"from {imp.module} import {imp.name}" if imp.name else f"import {imp.module}"
            info.old_api.append(Evidence(line=imp.line, text=written + (f" as {imp.alias}" if imp.alias else ""),
                                         detail="run `pai migrate` first: it rewrites the 2024 names to the "
                                         "current API"))
    if import_lines:
        missing_roles = [r for r in ("globals", "utils") if r not in import_lines]
        steps.mark(
            "imports",
            [ln for lines in import_lines.values() for ln in lines],
            f"missing the {' and '.join(missing_roles)} module import" if missing_roles else "",
            "missing" if len(missing_roles) == 2 else "present",
        )
    return generations


def _config_step(facts: Facts, config_calls: list[CallFact], info: IntegrationInfo, steps: _Steps) -> list[str]:
    """The settings made through calls or assignments, and what the dendrite capacity test is set to; returns
    the API generations they show."""
    generations = []
    config_assigns = [a for a in facts.assigns if any(_setting_target(t, info.aliases) for t in a.targets)]
    if config_calls or config_assigns:
        steps.mark("config", [c.line for c in config_calls] + [a.line for a in config_assigns])
        if any(_old_name(c.attr) for c in config_calls):
            generations.append("initialize_pai")
    capacity = [c for c in config_calls if _CAPACITY.search(c.attr)]
    cap_assign = [a for a in config_assigns if any(_CAPACITY.search(t) for t in a.targets)]
    if capacity:
        value = capacity[-1].args[0].strip() if capacity[-1].args else ""
        info.capacity_flag = value if value in ("True", "False") else "dynamic"
    elif cap_assign:
        value = cap_assign[-1].value_text.strip()
        info.capacity_flag = value if value in ("True", "False") else "dynamic"
    return generations


def _perforate_step(ours: list[CallFact], info: IntegrationInfo, steps: _Steps) -> list[str]:
    """The first perforate call (any generation's name) and its save name and score direction, which the
    PB-era API passed to the tracker's `initialize` instead; returns the API generation it shows."""
    perforate = [c for c in ours if c.attr in _PERFORATE]
    if not perforate:
        return []
    tracker_init = [c for c in ours if c.attr == "initialize" and "tracker" in c.qname.lower()]
    call = perforate[0]
    info.perforate_call = PerforateCall(
        line=call.line,
        function=call.attr,
        text=call.text,
        save_name=call.kwargs.get("save_name", call.kwargs.get("saveName")),
        maximizing_score=call.kwargs.get("maximizing_score", call.kwargs.get("maximizingScore")),
    )
    if call.attr == "convertNetwork" and tracker_init:
        t = tracker_init[0]
        info.perforate_call.save_name = t.kwargs.get("saveName", info.perforate_call.save_name)
        info.perforate_call.maximizing_score = t.kwargs.get(
            "maximizingScore", info.perforate_call.maximizing_score
        )
    steps.mark("perforate_model", [c.line for c in perforate + tracker_init], call.attr)
    return [_PERFORATE[call.attr]]


def _trainer_steps(facts: Facts, config_calls: list[CallFact], steps: _Steps) -> None:
    """A Hugging Face Trainer script: the library validation score setting and `using_perforatedai=`."""
    lib_score = [c for c in config_calls if "library_validation_score" in c.attr]
    if lib_score:
        steps.mark(
            "library_validation_score",
            [c.line for c in lib_score],
            lib_score[0].args[0] if lib_score[0].args else "",
        )
    flagged = [c for c in facts.calls if "using_perforatedai" in c.kwargs]
    if flagged:
        steps.mark(
            "trainer_using_perforatedai",
            [c.line for c in flagged],
            flagged[0].kwargs["using_perforatedai"],
        )


def _training_loop_steps(facts: Facts, ours: list[CallFact], model_vars: list[str], steps: _Steps) -> list[str]:
    """A plain loop: optimizer registration, add_validation_score and what follows its result; returns the API
    generations the names show."""
    generations = []
    register = [c for c in ours if c.attr in _REGISTER]
    if register:
        steps.mark("optimizer_registration", [c.line for c in register], register[0].attr)
        if any(c.attr[0:5] == "setup" or "Optimizer" in c.attr for c in register) and any(
            c.attr in ("setupOptimizer", "setOptimizerInstance") for c in register
        ):
            generations.append("pb")
    validation = [c for c in ours if c.attr in _VALIDATION]
    if validation:
        steps.mark("add_validation_score", [c.line for c in validation])
        if any(c.attr == "addValidationScore" for c in validation):
            generations.append("pb")
        _restructure_steps(facts, validation[0], model_vars, steps)
    return generations


def _moved_to_device(facts: Facts, names: list[str]) -> bool:
    """Whether any of the model variables is moved to a device anywhere (`.to(...)` / `.cuda()`)."""
    return any(
        c.attr in ("to", "cuda") and (c.receiver in names or set(c.target_names) & set(names))
        for c in facts.calls
    )


def _is_pb_setting(call: CallFact) -> bool:
    return (
        ".pb_globals." in call.qname
        and call.attr.startswith(("set", "append"))
        and "tracker" not in call.qname.lower()
    )


def _setting_target(target: str, aliases: dict[str, str]) -> bool:
    """`PBG.switchMode = ...` / `GPA.pc.x = ...`: an attribute set on the globals module or its config."""
    head = target.split(".", 1)[0]
    return aliases.get(head) == "globals" and "." in target and ".pai_tracker" not in target


def _old_name(attr: str) -> bool:
    return attr.endswith("_to_convert") or "input_dimensions" in attr


def _generation(generations: list[str], any_step: bool) -> str:
    for g in ("pb", "initialize_pai", "current"):
        if g in generations:
            return g
    return "current" if any_step else "none"


def _restructure_steps(facts: Facts, call: CallFact, model_vars: list[str], steps: _Steps) -> None:
    """What the script does with add_validation_score's (model, restructured, training_complete)."""
    names = call.target_names
    if len(names) < 3:
        steps.mark(
            "restructure_optimizer_rebuild",
            [],
            "the add_validation_score result is not unpacked into (model, restructured, training_complete)",
            "missing",
        )
        return
    model_var, restructured, complete = names[0], names[-2], names[-1]
    _rebuild_step(facts, call, restructured, steps)
    _device_step(facts, call, [model_var, *model_vars], steps)
    _complete_step(facts, call, complete, steps)


def _rebuild_step(facts: Facts, call: CallFact, restructured: str, steps: _Steps) -> None:
    """`if restructured:` after the call rebuilds the optimizer (directly or through a helper)."""
    function = call.function
    builders = _optimizer_builders(facts)
    branches = [
        i for i in facts.ifs if i.function == function and restructured in i.names and i.line > call.line
    ]
    rebuild_lines = [
        c.line
        for branch in branches
        for c in facts.calls
        if c.function == function
        and branch.line <= c.line <= branch.end_line
        and (_builds_optimizer(c) or c.written.rsplit(".", 1)[-1] in builders)
    ]
    if rebuild_lines:
        steps.mark("restructure_optimizer_rebuild", rebuild_lines)
    elif branches:
        steps.mark(
            "restructure_optimizer_rebuild",
            [branches[0].line],
            f"`if {branches[0].test}:` does not rebuild the optimizer",
            "missing",
        )


def _device_step(facts: Facts, call: CallFact, model_vars: list[str], steps: _Steps) -> None:
    """The model is moved to its device after the call, in the same function (`model_vars[0]` is the model
    the call returns); a model never moved anywhere needs no move."""
    moves = [
        c
        for c in facts.calls
        if c.function == call.function
        and c.line >= call.line
        and c.attr in ("to", "cuda")
        and c.receiver in model_vars
    ]
    if moves:
        steps.mark("model_to_device_after_restructure", [moves[0].line])
    elif not _moved_to_device(facts, model_vars):
        steps.mark(
            "model_to_device_after_restructure", [], "the model is never moved to a device", "not_applicable"
        )


def _complete_step(facts: Facts, call: CallFact, complete: str, steps: _Steps) -> None:
    """The loop is left on training_complete: a break, return or exit under `if complete:`, a `while not
    complete` loop, or the flag returned to the caller."""
    function = call.function
    done = [i for i in facts.ifs if i.function == function and complete in i.names and i.line > call.line]
    fn = facts.function(function)
    exits = []
    for branch in done:
        inside = range(branch.line, branch.end_line + 1)
        exits += [ln for ln, in_fn in facts.breaks if in_fn == function and ln in inside]
        exits += [ln for ln, _, _ in fn.returns if ln in inside] if fn else []
        exits += [c.line for c in facts.calls
                  if c.function == function and c.line in inside and c.written in ("sys.exit", "exit", "quit")]
    exits += [
        lp.line for lp in facts.loops if lp.kind == "while" and lp.test_text and complete in lp.test_text
    ]
    if exits:
        steps.mark("training_complete_break", exits)
    elif not done and function is not None and complete in _returned_names(facts, function):
        steps.mark("training_complete_break", [call.line], f"{complete} is returned to the caller")


def _returned_names(facts: Facts, function: str) -> set[str]:
    fn = facts.function(function)
    return {n for _, text, _ in (fn.returns if fn else []) for n in re.findall(r"\w+", text)}


def _builds_optimizer(c: CallFact) -> bool:
    q = c.qname
    return (
        (q.startswith("torch.optim.") and "lr_scheduler" not in q)
        or c.attr in _REGISTER
        or c.attr in ("set_optimizer", "setOptimizer")
    )


def _optimizer_builders(facts: Facts) -> set[str]:
    """Local functions that construct or register an optimizer (e.g. `build_optimizer`)."""
    return {c.function.rsplit(".", 1)[-1] for c in facts.calls if c.function and _builds_optimizer(c)}
