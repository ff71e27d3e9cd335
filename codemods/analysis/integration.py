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


def analyze_integration(facts: Facts, library: str, model_vars: list[str]) -> IntegrationInfo:
    info = IntegrationInfo()
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
    ours = [c for c in facts.calls if _ours(c.qname)]
    for c in ours:
        info.calls.setdefault(c.attr, []).append(c.line)
    steps: dict[str, IntegrationStep] = {}

    def mark(name: str, lines: list[int], detail: str = "", status: str = "present") -> None:
        step = steps.setdefault(name, IntegrationStep(name=name, status=status))
        step.status = status
        step.lines = sorted(set(step.lines + lines))
        if detail:
            step.detail = detail

    if import_lines:
        missing_roles = [r for r in ("globals", "utils") if r not in import_lines]
        mark(
            "imports",
            [ln for lines in import_lines.values() for ln in lines],
            f"missing the {' and '.join(missing_roles)} module import" if missing_roles else "",
            "missing" if len(missing_roles) == 2 else "present",
        )

    config_calls = [c for c in ours if ".pc." in c.qname or _is_pb_setting(c)]
    config_assigns = [a for a in facts.assigns if any(_setting_target(t, info.aliases) for t in a.targets)]
    if config_calls or config_assigns:
        mark("config", [c.line for c in config_calls] + [a.line for a in config_assigns])
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

    perforate = [c for c in ours if c.attr in _PERFORATE]
    tracker_init = [c for c in ours if c.attr == "initialize" and "tracker" in c.qname.lower()]
    if perforate:
        call = perforate[0]
        generations.append(_PERFORATE[call.attr])
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
        mark("perforate_model", [c.line for c in perforate + tracker_init], call.attr)

    hf = library == "huggingface_trainer"
    if hf:
        lib_score = [c for c in config_calls if "library_validation_score" in c.attr]
        if lib_score:
            mark(
                "library_validation_score",
                [c.line for c in lib_score],
                lib_score[0].args[0] if lib_score[0].args else "",
            )
        flagged = [c for c in facts.calls if "using_perforatedai" in c.kwargs]
        if flagged:
            mark(
                "trainer_using_perforatedai",
                [c.line for c in flagged],
                flagged[0].kwargs["using_perforatedai"],
            )
    else:
        register = [c for c in ours if c.attr in _REGISTER]
        if register:
            mark("optimizer_registration", [c.line for c in register], register[0].attr)
            if any(c.attr[0:5] == "setup" or "Optimizer" in c.attr for c in register) and any(
                c.attr in ("setupOptimizer", "setOptimizerInstance") for c in register
            ):
                generations.append("pb")
        validation = [c for c in ours if c.attr in _VALIDATION]
        if validation:
            mark("add_validation_score", [c.line for c in validation])
            if any(c.attr == "addValidationScore" for c in validation):
                generations.append("pb")
            _restructure_steps(facts, validation[0], model_vars, mark)

    if (
        not hf
        and "model_to_device_after_restructure" not in steps
        and not any(
            c.attr in ("to", "cuda") and (c.receiver in model_vars or set(c.target_names) & set(model_vars))
            for c in facts.calls
        )
    ):
        mark(
            "model_to_device_after_restructure", [], "the model is never moved to a device", "not_applicable"
        )
    info.generation = _generation(generations, any(s.status == "present" for s in steps.values()))
    required = HF_STEPS if hf else PLAIN_STEPS
    for name in required:
        steps.setdefault(name, IntegrationStep(name=name, status="missing"))
    info.steps = [steps[n] for n in required] + [s for n, s in steps.items() if n not in required]
    info.missing = [s.name for s in info.steps if s.status == "missing" and s.name in required]
    present = [s for s in info.steps if s.status == "present"]
    info.level = "none" if not present else ("complete" if not info.missing else "partial")
    return info


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


def _restructure_steps(facts: Facts, call: CallFact, model_vars: list[str], mark) -> None:
    names = call.target_names
    if len(names) < 3:
        mark(
            "restructure_optimizer_rebuild",
            [],
            "the add_validation_score result is not unpacked into (model, restructured, training_complete)",
            "missing",
        )
        return
    model_var, restructured, complete = names[0], names[-2], names[-1]
    function = call.function
    # restructure branch: `if restructured:` rebuilding the optimizer (directly or through a helper)
    builders = _optimizer_builders(facts)
    branches = [
        i for i in facts.ifs if i.function == function and restructured in i.names and i.line > call.line
    ]
    rebuild_lines = []
    for branch in branches:
        for c in facts.calls:
            if (
                c.function == function
                and branch.line <= c.line <= branch.end_line
                and (_builds_optimizer(c) or c.written.rsplit(".", 1)[-1] in builders)
            ):
                rebuild_lines.append(c.line)
    if rebuild_lines:
        mark("restructure_optimizer_rebuild", rebuild_lines)
    elif branches:
        mark(
            "restructure_optimizer_rebuild",
            [branches[0].line],
            f"`if {branches[0].test}:` does not rebuild the optimizer",
            "missing",
        )
    # model.to(device) after the call, in the same function
    moves = [
        c
        for c in facts.calls
        if c.function == function
        and c.line >= call.line
        and c.attr in ("to", "cuda")
        and (c.receiver == model_var or c.receiver in model_vars)
    ]
    if moves:
        mark("model_to_device_after_restructure", [moves[0].line])
    elif not any(
        c.attr in ("to", "cuda")
        and (c.receiver in [model_var, *model_vars] or set(c.target_names) & {model_var, *model_vars})
        for c in facts.calls
    ):
        mark(
            "model_to_device_after_restructure", [], "the model is never moved to a device", "not_applicable"
        )
    # leaving the loop on training_complete
    done = [i for i in facts.ifs if i.function == function and complete in i.names and i.line > call.line]
    exits = []
    for branch in done:
        exits += [ln for ln, fn in facts.breaks if fn == function and branch.line <= ln <= branch.end_line]
        fn = facts.function(function)
        if fn:
            exits += [ln for ln, _, _ in fn.returns if branch.line <= ln <= branch.end_line]
        exits += [
            c.line
            for c in facts.calls
            if c.function == function
            and branch.line <= c.line <= branch.end_line
            and c.written in ("sys.exit", "exit", "quit")
        ]
    exits += [
        lp.line for lp in facts.loops if lp.kind == "while" and lp.test_text and complete in lp.test_text
    ]
    if exits:
        mark("training_complete_break", exits)
    elif not done and function is not None and complete in _returned_names(facts, function):
        mark("training_complete_break", [call.line], f"{complete} is returned to the caller")


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
