"""Causes the script itself shows, from `pai check`'s rules and the analysis: they block dendrites, whatever
the log says.

Each cause names the catalogue patterns whose symptom it produces (`explains`); when the pasted log shows
one of those symptoms, or no failure at all, the script's cause is ranked first: it is what the user has to
change. Fixes quote the script's own lines and names.
"""

from __future__ import annotations

from dataclasses import dataclass

from codemods.diagnosis.catalogue import PATTERNS
from codemods.diagnosis.models import DiagnosisFinding, ScriptLine
from codemods.diagnosis.script_facts import ScriptFacts

DOC = "pai://skills/pai-setup"


@dataclass
class Blocking:
    finding: DiagnosisFinding
    explains: frozenset[str]  # catalogue pattern ids whose symptom this cause produces


def blocking_causes(facts: ScriptFacts) -> list[Blocking]:
    """The script's blocking causes, the one that acts first in the run first."""
    if not facts.analysis_used:
        return []
    rules = (_tracker_in_init, _perforate_missing, _perforate_late, _nothing_matches, _set_optimizer_flagged,
             _validation_missing, _loop_never_stops)
    return [b for b in (rule(facts) for rule in rules) if b is not None]


# Codes of the causes (PAI490-PAI499); a cause that is also a catalogue pattern has the pattern's code.
CODES = {"tracker-call-in-model-init": "PAI491", "perforate-model-never-called": "PAI492",
         "perforate-after-training": "PAI493", "tracker-before-perforate": "PAI494",
         "set-optimizer-under-a-flag": "PAI495", "validation-never-called": "PAI496",
         "loop-ignores-training-complete": "PAI497"}


def _finding(facts: ScriptFacts, pattern_id: str, title: str, category: str, cause: str, fix: str,
             lines: list[tuple[int | None, str]], evidence: str, explains: set[str], confidence: float = 0.9,
             ) -> Blocking:
    shown = [ScriptLine(line=n, code=facts.code(n), why=why) for n, why in lines if n]
    code = CODES.get(pattern_id) or next(p.code for p in PATTERNS if p.id == pattern_id)
    finding = DiagnosisFinding(code=code, severity="error", message=title, pattern_id=pattern_id,
                               category=category, cause=cause, fix=fix, doc=DOC, confidence=confidence,
                               level="high", excerpt="", lines=shown, evidence=[evidence])
    return Blocking(finding, frozenset(explains))


def _at(facts: ScriptFacts, line: int | None) -> str:
    return f"line {line}: `{facts.code(line)}`" if line else ""


_NO_TRACKER = {"tracker-never-initialised"}
_NO_DENDRITES = {"dendrites-never-added", "silent-exit", "no-new-best", "training-complete-normal"}


def _tracker_in_init(facts: ScriptFacts) -> Blocking | None:
    if not facts.tracker_calls_in_init:
        return None
    line, function = facts.tracker_calls_in_init[0]
    perforate = facts.perforate_model_line
    after = f"after perforate_model ({_at(facts, perforate)})" if perforate else "after perforate_model"
    return _finding(
        facts, "tracker-call-in-model-init", "a tracker call runs inside the model's __init__", "conversion",
        f"`{facts.code(line)}` (line {line}) sits in `{function}`: it runs while the model is being built, "
        "before perforate_model has created the tracker.",
        f"Move line {line} out of `{function}` to the training code {after}; the model class itself must not "
        "call `GPA.pai_tracker`.",
        [(line, f"tracker call inside {function}"), (facts.perforate_model_line, "perforate_model call")],
        "pai check: a tracker call is made while the model is constructed", _NO_TRACKER)


def _perforate_missing(facts: ScriptFacts) -> Blocking | None:
    if not facts.issues("PAI103"):
        return None
    where = (f" right after the model is built ({_at(facts, facts.model_built_line)})"
             if facts.model_built_line else " right after the model is built")
    return _finding(
        facts, "perforate-model-never-called", "perforate_model is never called", "conversion",
        "The script never calls perforate_model: no module gets dendrites and the tracker does not exist.",
        f"Add `{facts.model_variable} = UPA.perforate_model({facts.model_variable}, save_name=..., "
        f"maximizing_score=...)`{where}, before the optimizer and every `GPA.pai_tracker` call.",
        [(facts.model_built_line, "the model is built here"),
         (facts.first_tracker_call_line, "first tracker call")],
        "pai check PAI103: UPA.perforate_model is never called", _NO_TRACKER | _NO_DENDRITES)


def _perforate_late(facts: ScriptFacts) -> Blocking | None:
    line = facts.perforate_model_line
    late = [f"pai check: {f.message}" for f in facts.issues("PAI117")]
    what = "after the training loop"
    guard = facts.main_block
    if line is not None and not late and guard and facts.perforate_in_function is None and line > guard[1]:
        what = f'after the `if __name__ == "__main__":` block (lines {guard[0]}-{guard[1]}) that trains it'
        late = [f"perforate_model (line {line}) comes {what}"]
    tracker = facts.first_tracker_call_line
    if line is None or not (late or (tracker is not None and tracker < line)):
        return None
    built = facts.model_built_line if facts.model_built_line and facts.model_built_line < line else None
    early = tracker if tracker is not None and tracker < line else None
    move = f"Move line {line} (`{facts.code(line)}`) "
    if built:
        move += f"to right after line {built} (`{facts.code(built)}`), in the same block."
        if early is not None and early < built:
            move += f" Line {early} (`{facts.code(early)}`) uses the tracker before that: move it below too."
    elif early is not None:
        move += f"above line {early} (`{facts.code(early)}`)."
    else:
        move += "to right after the model is built."
    what = what if late else "after the tracker is already used"
    pattern_id, title = (("perforate-after-training", "perforate_model is placed after training") if late else
                         ("tracker-before-perforate", "the tracker is used before perforate_model"))
    return _finding(
        facts, pattern_id, title, "conversion",
        f"perforate_model (line {line}) runs {what}: the model trains without dendrites and every tracker "
        "call before it finds no tracker.",
        f"{move} Build the optimizer from the perforated model.",
        [(line, "perforate_model call to move"), (built, "move it right after this line"),
         (tracker, "first tracker call")],
        late[0] if late else f"the tracker is used on line {tracker}, before perforate_model",
        _NO_TRACKER | _NO_DENDRITES)


def _nothing_matches(facts: ScriptFacts) -> Blocking | None:
    kinds = facts.perforated_kinds
    built = sorted({layer.kind for layer in facts.layers})
    if not kinds or not built or set(kinds) & set(built) or not facts.perforate_model_line:
        return None
    line = facts.call_lines.get("set_module_names_to_perforate", [None])[-1]
    layers = ", ".join(f"{layer.attribute} ({layer.kind})" for layer in facts.layers)
    return _finding(
        facts, "nothing-perforated", "no module was perforated", "conversion",
        f"module_names_to_perforate is {kinds} but the model builds only {built}: no module gets a dendrite.",
        f"Name the classes the model really builds: `GPA.pc.set_module_names_to_perforate({built})` "
        f"({_at(facts, line) or 'before perforate_model'}); the model's layers: {layers}.",
        [(line, "module names configured here"), (facts.perforate_model_line, "perforate_model call")],
        f"the script's layers are {built}, none of {kinds}", {"nothing-perforated"} | _NO_DENDRITES)


def _set_optimizer_flagged(facts: ScriptFacts) -> Blocking | None:
    flag, line = facts.set_optimizer_condition, facts.set_optimizer_line
    if not flag or not facts.setup_optimizer_line or facts.set_optimizer_instance_line:
        return None
    return _finding(
        facts, "set-optimizer-under-a-flag", "set_optimizer runs only under a condition", "optimizer",
        f"`{facts.code(line)}` (line {line}) runs only when `{flag}` is true; otherwise setup_optimizer "
        f"({_at(facts, facts.setup_optimizer_line)}) has no optimizer class.",
        f"Call set_optimizer on every path before setup_optimizer: move `{facts.code(line)}` (line {line}) "
        f"out of `if {flag}:` (or give each branch its own `GPA.pai_tracker.set_optimizer(<the class that "
        "branch trains with>)`); or build the optimizer yourself and register it with "
        "`GPA.pai_tracker.set_optimizer_instance(optimizer)`.",
        [(line, f"only when {flag}"), (facts.setup_optimizer_line, "setup_optimizer call")],
        f"set_optimizer is called only under `if {flag}:`", {"set-optimizer-missing"})


def _validation_missing(facts: ScriptFacts) -> Blocking | None:
    if facts.calls_add_validation_score or not facts.issues("PAI106") or not facts.perforate_model_line:
        return None
    score = facts.validation_metric or "<validation score>"
    loop = f" inside the epoch loop ({_at(facts, facts.epoch_loop_line)})" if facts.epoch_loop_line else ""
    model = facts.model_variable
    return _finding(
        facts, "validation-never-called", "add_validation_score is never called", "tracker",
        "The model is perforated but the tracker never gets a validation score, so it never decides to add "
        "dendrites (and never says training is complete).",
        f"Once per epoch{loop}, after validating: `{model}, restructured, training_complete = "
        f"GPA.pai_tracker.add_validation_score({score}, {model})`, then `{model}.to(device)` if you use one, "
        "rebuild the optimizer `if restructured:`, and `break` `if training_complete:` (loop `while True:`).",
        [(facts.epoch_loop_line, "epoch loop"), (facts.perforate_model_line, "perforate_model call")],
        "pai check PAI106: add_validation_score is never called", _NO_DENDRITES)


def _loop_never_stops(facts: ScriptFacts) -> Blocking | None:
    stuck = facts.issues("PAI110")  # as an error: the loop never leaves on training_complete
    if not stuck or not facts.validation_call:
        return None
    targets = [t.strip() for t in facts.validation_call[0].strip("()").split(",")]
    complete = targets[-1] if len(targets) == 3 else "training_complete"
    line = facts.add_validation_score_line
    return _finding(
        facts, "loop-ignores-training-complete", "the loop never stops on training_complete", "tracker",
        f"add_validation_score (line {line}) returns `{complete}` but the loop does not leave on it: after "
        "the tracker is done the run keeps training (a fixed range runs out its epochs, `while True:` never "
        "ends).",
        f"Right after line {line} add `if {complete}: break` (in the epoch loop, not an inner batch loop), "
        "and loop `while True:` so the tracker decides when training ends.",
        [(line, "add_validation_score call"), (facts.epoch_loop_line, "epoch loop")],
        f"pai check: {stuck[0].message}",
        {"capacity-test-succeeded", "training-complete-normal"} | _NO_DENDRITES)
