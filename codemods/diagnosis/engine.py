"""`diagnose`: match pasted text against the catalogue, weigh it with the script's facts, rank the causes."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemods.diagnosis import options, shapes
from codemods.diagnosis.blocking import blocking_causes
from codemods.diagnosis.catalogue import PATTERNS
from codemods.diagnosis.logtext import MAX_CHARS, clean, parse_exceptions
from codemods.diagnosis.models import Diagnosis, DiagnosisFinding, ExceptionInfo, Pattern, ScriptLine
from codemods.diagnosis.script_facts import ScriptFacts, collect_facts

FLAGS = re.IGNORECASE | re.MULTILINE
MIN_CONFIDENCE = 0.35
CONFIRM_BONUS, RULE_OUT_PENALTY = 0.08, 0.3
TYPE_ONLY_WEIGHT = 0.75  # the exception class is known but its message is not

CHECKLIST = [
    (
        "Imports: `from pai_core import globals_perforatedai as GPA` and `utils_perforatedai as UPA` "
        "(or the upstream `perforatedai` modules)."
    ),
    (
        "Configuration before perforate_model: `GPA.pc.set_*` calls (module lists, output_dimensions, "
        "testing_dendrite_capacity, configuration_confirmed)."
    ),
    (
        "`model = UPA.perforate_model(model, save_name=..., maximizing_score=...)` right after building the model, "
        "before `.to(device)`, DataParallel/DDP and the optimizer."
    ),
    (
        "Optimizer registered with the tracker: `GPA.pai_tracker.setup_optimizer(...)` or "
        "`set_optimizer_instance(optimizer)`."
    ),
    (
        "Once per epoch: `model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, model)`; "
        "`model.to(device)`; break on training_complete; rebuild the optimizer/scheduler when restructured."
    ),
    (
        "Run once with the capacity test on (default) and wait for 'Successfully added 3 dendrites', then set "
        "`GPA.pc.set_testing_dendrite_capacity(False)`."
    ),
    (
        "Paste the full traceback (from `Traceback (most recent call last):` to the last line), and pass "
        "`--script train.py` so the diagnosis can point at lines."
    ),
]

_LINE_WHY = {
    "perforate_model_line": "perforate_model call",
    "optimizer_line": "optimizer is built here",
    "setup_optimizer_line": "setup_optimizer call",
    "add_validation_score_line": "add_validation_score call",
    "restructure_branch_line": "restructure branch",
    "output_dimensions_line": "output_dimensions are configured here",
    "dataparallel_line": "DataParallel wrapper",
    "ddp_line": "DistributedDataParallel wrapper",
    "capacity_test_line": "capacity test flag",
    "grad_scaler_line": "AMP GradScaler",
    "scheduler_step_line": "scheduler.step() call",
    "set_optimizer_instance_line": "set_optimizer_instance call",
    "for_range_loop_line": "fixed-length training loop",
    "legacy_name_lines": "older API name",
    "used_before_import_lines": "used before its import",
    "import_lines": "the library is imported here",
}
_AT = {  # template placeholder -> facts field whose line it names
    "perforate_at": "perforate_model_line",
    "validation_at": "add_validation_score_line",
    "optimizer_at": "optimizer_line",
    "setup_optimizer_at": "setup_optimizer_line",
    "output_dims_at": "output_dimensions_line",
    "capacity_at": "capacity_test_line",
    "ddp_at": "ddp_line",
    "scheduler_step_at": "scheduler_step_line",
}
_LIBRARY_PATHS = re.compile(
    r"site-packages|dist-packages|[/\\]lib[/\\]python|<frozen|(^|[/\\])pai_core[/\\]|"
    r"(^|[/\\])perforatedai[/\\]|[/\\]torch[/\\]|^<|\.pyx$"
)


@dataclass
class _Match:
    pattern: Pattern
    weight: float
    order: int  # 0 = found in the exception finally raised; larger = further from it
    excerpt: str
    groups: dict[str, str]
    source: str  # the text block the match came from, for detail extraction
    frames: list[tuple[str, int, str, str]]  # frames of the exception matched (empty for log matches)
    type_only: bool = False  # matched on the exception class alone


def diagnose(text: str, script: str | Path | None = None) -> Diagnosis:
    """Rank the likely causes of a pasted traceback or console log; deterministic and offline."""
    if not isinstance(text, str):
        raise TypeError(f"diagnose() needs the pasted log as str, got {type(text).__name__}")
    cleaned, truncated = clean(text)
    exceptions = parse_exceptions(cleaned)
    facts = collect_facts(script) if script is not None else None
    notes = []
    if truncated:
        notes.append(f"The paste was longer than {MAX_CHARS} characters; only its end was read.")
    matches = [m for p in PATTERNS if (m := _match(p, cleaned, exceptions)) is not None]
    explained = {m.order for m in matches if not m.type_only}
    matches = [m for m in matches if not (m.type_only and m.order in explained)]  # the message says more
    findings = [_finding(m, facts, bool(exceptions)) for m in matches]
    order = {id(f): m.order for f, m in zip(findings, matches, strict=True)}
    # A message read from the log text (a warning printed earlier, say) never outranks an exception explained by
    # its own message; a bare stop (BdbQuit, a pdb prompt: log_only patterns) is explained by the text before it.
    log_order = len(exceptions) + 1
    explains_exception = any(m.order < log_order and not m.pattern.log_only for m in matches)
    findings.sort(key=lambda f: (explains_exception and order[id(f)] >= log_order, -f.confidence, order[id(f)],
                                 f.severity == "info"))
    findings = [f for f in findings if f.confidence >= MIN_CONFIDENCE]
    if facts is not None:
        findings = _rank_blocking(findings, facts)
    user_frames = _user_frames(exceptions, facts)
    if findings and user_frames and findings[0].severity != "info":
        frame = user_frames[0]
        if all(line.line != frame.line for line in findings[0].lines):
            findings[0].lines.insert(0, frame)
    for f in findings:  # where it points: the first line of the given script it shows
        if script is not None and f.lines:
            f.file, f.line = str(script), f.lines[0].line
    recognised = bool(findings)
    if not exceptions and not findings and cleaned.strip():
        notes.append("No Python traceback was found in the text.")
    return Diagnosis(
        recognised=recognised,
        findings=findings,
        exceptions=exceptions,
        script=str(script) if script is not None else None,
        script_lines=user_frames,
        checklist=[] if recognised else CHECKLIST,
        notes=notes,
    )


def _rank_blocking(findings: list[DiagnosisFinding], facts: ScriptFacts) -> list[DiagnosisFinding]:
    """The script's blocking causes go first when they explain the log's failure or the log shows none; the
    log's finding they explain follows them, other crashes keep their rank ahead of the rest."""
    failure = next((f for f in findings if f.severity != "info"), None)
    lead, trail = [], []
    for cause in blocking_causes(facts):
        b = cause.finding
        explained = failure is not None and failure.pattern_id in cause.explains | {b.pattern_id}
        if failure is None or explained:
            if explained:
                b.confidence = max(b.confidence, failure.confidence)
                b.excerpt = failure.excerpt
                b.evidence.append(f"it explains what the log shows: {failure.message}")
            lead.append((not explained, b))
        else:
            b.confidence = round(min(b.confidence, failure.confidence) * 0.8, 2)
            trail.append(b)
    if not lead and not trail:
        return findings
    lead.sort(key=lambda pair: pair[0])
    first = [b for _, b in lead]
    ids = {b.pattern_id for b in first + trail}
    for b in first + trail:
        b.level = _level(b.confidence)
    rest = [f for f in findings if f.pattern_id not in ids]
    return first + rest[:1] + trail + rest[1:]


def _match(pattern: Pattern, text: str, exceptions: list[ExceptionInfo]) -> _Match | None:
    if pattern.context and not any(re.search(c, text, FLAGS) for c in pattern.context):
        return None
    if any(re.search(a, text, FLAGS) for a in pattern.absent):
        return None
    blocks = [(f"{e.type}: {e.message}", n) for n, e in enumerate(reversed(exceptions))]
    for block, order in blocks:
        for signal in pattern.signals:
            m = re.search(signal, block, FLAGS)
            if m:
                weight = 1.0 if order == 0 else 0.9
                exc = exceptions[len(exceptions) - 1 - order]
                return _Match(pattern, weight, order, _excerpt(block, m), _groups(m), block, exc.frames)
    for exc, (block, order) in zip(reversed(exceptions), blocks, strict=True):
        if exc.type.rsplit(".", 1)[-1] in pattern.exception_types:
            first_line = re.match(r"[^\n]*", block)
            return _Match(
                pattern,
                TYPE_ONLY_WEIGHT,
                order,
                _excerpt(block, first_line),
                {},
                block,
                exc.frames,
                type_only=True,
            )
    for signal in pattern.signals:
        hits = list(re.finditer(signal, text, FLAGS))
        if hits:
            m = hits[-1]  # the most recent occurrence is nearest to the failure
            weight = 1.0 if pattern.log_only or not exceptions else 0.85
            source = text[max(0, m.start() - 600) : m.end() + 600]
            return _Match(pattern, weight, len(blocks) + 1, _excerpt(text, m), _groups(m), source, [])
    return None


def _groups(m: re.Match[str]) -> dict[str, str]:
    return {k: v for k, v in m.groupdict().items() if v}


def _excerpt(text: str, m: re.Match[str]) -> str:
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    line = text[start : end if end != -1 else len(text)].strip()
    return line if len(line) <= 300 else line[:297] + "..."


def _finding(m: _Match, facts: ScriptFacts | None, has_exception: bool) -> DiagnosisFinding:
    p = m.pattern
    confidence = p.confidence * m.weight
    if p.informational and has_exception:
        confidence *= 0.8  # a success line does not explain a crash printed in the same paste
    details = _details(p, m, facts)
    evidence: list[str] = []
    if facts is not None:
        for rule in p.facts:
            value = getattr(facts, rule.fact, None)
            if _holds(rule.equals, value, facts):
                evidence.append(_fill(rule.note, details))
                confidence += CONFIRM_BONUS if rule.effect == "confirms" else -RULE_OUT_PENALTY
    confidence = round(min(0.99, max(0.05, confidence)), 2)
    return DiagnosisFinding(
        code=p.code,
        severity="info" if p.informational else "warning" if p.log_only else "error",
        message=p.title,
        pattern_id=p.id,
        category=p.category,
        cause=_fill(p.cause, details),
        fix=_fill(p.fix, details),
        doc=p.doc,
        confidence=confidence,
        level=_level(confidence),
        excerpt=m.excerpt,
        lines=_lines(p, facts, details),
        evidence=evidence,
    )


def _level(confidence: float) -> str:
    return "high" if confidence >= 0.75 else "medium" if confidence >= 0.5 else "low"


def _holds(expected: Any, value: Any, facts: ScriptFacts) -> bool:
    if expected is None:
        return value is None
    if expected == "set":
        return value is not None and value is not False
    if expected == "nonempty":
        return bool(value)
    return value is not None and value == expected


def _fill(template: str, details: dict[str, str]) -> str:
    """Replace `{name}` placeholders only; other braces (dict literals in fixes) stay as written."""
    values = _Defaults(details)
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


class _Defaults(dict):
    """format_map source: unknown placeholders become readable stand-ins instead of KeyErrors."""

    def __missing__(self, key: str) -> str:
        if key.endswith("_at"):
            return ""
        return {
            "module": ".<layer>",
            "module_attr": "model.<layer>",
            "module_type": "<ModuleClass>",
            "suggested_dims": "[-1, 0] for [batch, features], [-1, -1, 0] for [batch, seq, features], "
            "[-1, 0, -1, -1] for [batch, channels, H, W]",
            "received_shape": "printed in the message",
            "received_rank": "a different number of",
            "expected": "configured",
            "setter": "the option",
            "setter_fix": "Check the option name against the current API.",
            "attr": "<attribute>",
            "legacy_names": "",
            "corrected_id": "",
            "got": "another object",
            "score_key": "",
        }.get(key, f"<{key}>")


_MODULE_CATEGORIES = ("shapes", "conversion", "processors")  # failures of one module, which the text names


def _details(p: Pattern, m: _Match, facts: ScriptFacts | None) -> dict[str, str]:
    """The values of the `{placeholders}` in the pattern's cause and fix: the match's named groups, then what
    the failing module, the message and the script tell (a later step overrides an earlier one)."""
    d: dict[str, str] = dict(m.groups)
    module = _failing_module(p, m)
    d.update(_module_details(module, facts))
    if p.category == "shapes":
        d.update(_shape_details(m.source, module, facts))
    d.update(_parallel_fixes(facts))
    d.update(_message_details(d, m.source))
    if facts is not None:
        d.update(_script_details(d, module, facts))
    if p.category == "shapes":
        d["dims_scope"] = _dims_scope(d, module, facts)
    return d


def _failing_module(p: Pattern, m: _Match) -> str | None:
    """The module id the failing text names ('.fc1'), else the one the user's frame calls (`self.rnn(x)`)."""
    if p.category not in _MODULE_CATEGORIES:
        return None
    return shapes.module_id(m.source) or _module_from_user_frame(m.frames)


def _module_details(module: str | None, facts: ScriptFacts | None) -> dict[str, str]:
    """The model's name in the script and the failing module as an id, an attribute path, and with its kin."""
    root = facts.model_variable if facts is not None else "model"
    d = {"model": root}
    if module:
        d["module"] = module
        d["module_attr"] = shapes.attribute_path(module, root)
    d["module_ids"] = str(_same_kind(module, facts) or [module or ".<layer>"])
    return d


def _shape_details(source: str, module: str | None, facts: ScriptFacts | None) -> dict[str, str]:
    """The output_dimensions the run expected, the shape it received and the vector that fits it."""
    d = {}
    shape = shapes.received_shape(source)
    expected = shapes.expected_vector(source) or (facts.output_dimensions if facts else None)
    if expected:
        d["expected"] = str(expected)
    if shape:
        d["received_shape"] = str(shape)
        d["received_rank"] = str(len(shape))
        d["suggested_dims"] = str(shapes.suggest_output_dimensions(shape, module))
    suggested = shapes.suggested_in_message(source)
    if suggested and (not shape or len(suggested) == len(shape)):
        d["suggested_dims"] = str(suggested)
    return d


def _message_details(found: dict[str, str], source: str) -> dict[str, str]:
    """What the message names: the unknown setter and its correction, the attribute, the metric key of a dict
    score, the corrected module id and the class of a module that returned a tuple."""
    d = {}
    name = found.get("setter") or found.get("setter2") or found.get("setter3") or found.get("setter4")
    if name:
        d["setter"] = name
        hint = re.search(r"Did you mean '(\w+)'", source)
        d["setter_fix"] = options.correction(name, hint.group(1) if hint else None)
    d["attr"] = found.get("attr", found.get("attr2", "<attribute>"))
    key = re.search(r"dict with keys \[('[^']+'|\"[^\"]+\")", source)
    if key:
        d["score_key"] = f" (here the tracked metric of the dict, e.g. `metrics[{key.group(1)}]`)"
    corrected = re.search(r"Use '(\.[\w.]+)'", source)
    if corrected:
        d["corrected_id"] = f"; here: `'{corrected.group(1)}'`"
    tuple_module = re.search(r"\((?P<t>[A-Z]\w*)\) returned", source) or re.search(
        r"\b(?P<t>LSTM|GRU|RNN|LSTMCell|GRUCell|MultiheadAttention|[A-Z]\w*(?:Layer|Block|Attention))\b",
        source,
    )
    if tuple_module:
        d["module_type"] = tuple_module.group("t")
    return d


def _script_details(found: dict[str, str], module: str | None, facts: ScriptFacts) -> dict[str, str]:
    """The failing module's class as the script builds it, the line of each `{..._at}`, its older names."""
    d = {}
    if module and "module_type" not in found:
        layer_class = facts.layer_classes.get(module.strip(".").split(".")[-1])
        if layer_class:
            d["module_type"] = layer_class
    for key, field in _AT.items():
        line = getattr(facts, field)
        if line:
            d[key] = f" (line {line}: `{facts.code(line)}`)"
    if facts.legacy_names:
        d["legacy_names"] = ", ".join(facts.legacy_names)
    return d


def _same_kind(module: str | None, facts: ScriptFacts | None) -> list[str]:
    """Ids of the layers built by the same class as `module` (itself first): they share its output layout."""
    if not module or facts is None:
        return []
    parts = module.strip(".").split(".")
    mine = next((layer for layer in facts.layers if layer.attribute == parts[-1]), None)
    if mine is None:
        return []
    prefix = "." + ".".join(parts[:-1]) + "." if len(parts) > 1 else "."
    others = [prefix + layer.attribute for layer in facts.layers
              if layer.kind == mine.kind and layer.owner == mine.owner and layer.attribute != mine.attribute]
    return [module, *others]


def _dims_scope(d: dict[str, str], module: str | None, facts: ScriptFacts | None) -> str:
    """Where to set the vector: globally when the modules of that class share it, else on each module."""
    dims = d.get("suggested_dims", "[...]")
    globally = f"`GPA.pc.set_output_dimensions({dims})`{d.get('output_dims_at', '')}"
    attr = d.get("module_attr", "model.<layer>")
    same = _same_kind(module, facts)
    if len(same) < 2:
        return (f"If most perforated modules look like this one, set it globally before perforate_model: "
                f"{globally}; otherwise override only this module right after perforate_model"
                f"{d.get('perforate_at', '')}: `{attr}.set_this_output_dimensions({dims})`.")
    root = facts.model_variable if facts else "model"
    calls = ", ".join(f"`{shapes.attribute_path(m, root)}.set_this_output_dimensions({dims})`" for m in same)
    kind = facts.layer_classes.get(module.strip(".").split(".")[-1], "") if facts and module else ""
    others = ", ".join(f"`{shapes.attribute_path(m, root)}`" for m in same[1:])
    return (f"The model perforates {len(same)} {kind} modules of the same class ({others} besides this one): "
            f"those whose output has this shape need the same vector. When that is most of them, set it "
            f"globally before perforate_model: {globally}, and override the others right after perforate_model"
            f"{d.get('perforate_at', '')}; otherwise override each one there: {calls}.")


def _parallel_fixes(facts: ScriptFacts | None) -> dict[str, str]:
    """The add_validation_score line rewritten for a DataParallel/DDP wrapper, in the script's own names."""
    plain = ("`model, restructured, training_complete = GPA.pai_tracker.add_validation_score(score, "
             "parallel.module)` then `parallel = torch.nn.DataParallel(model)`")
    if facts is None:
        return {"unwrapped_validation": plain, "wrapped_validation": "", "wrap_at": ""}
    wrap = facts.dataparallel_line or facts.ddp_line
    wrap_at = (f"; line {wrap} (`{facts.code(wrap)}`) wraps it before that: build the bare model there"
               if wrap and facts.perforate_model_line and wrap < facts.perforate_model_line else "")
    if not facts.validation_call:
        return {"unwrapped_validation": plain, "wrapped_validation": "", "wrap_at": wrap_at}
    targets, callee, args = facts.validation_call
    wrapper = facts.wrapper_variable or facts.model_variable
    returned = targets.strip("()").split(",")[0].strip() or facts.model_variable
    score = args[0] if args else "score"
    rewritten = (f"`{targets} = {callee}({score}, {wrapper}.module)` then "
                 f"`{wrapper} = torch.nn.DataParallel({returned})`")
    line = facts.add_validation_score_line
    wrapped = ""
    if (facts.validation_model_argument or "").strip() in (wrapper, facts.model_variable):
        wrapped = (f" `{facts.model_variable}` is then the wrapper, so the tracker call on line {line} "
                   f"(`{facts.code(line)}`) must take its `.module` and re-wrap the result: {rewritten}.")
    return {"unwrapped_validation": rewritten, "wrapped_validation": wrapped, "wrap_at": wrap_at}


def _module_from_user_frame(frames: list[tuple[str, int, str, str]]) -> str | None:
    """`self.rnn(x)` in the innermost frame of the user's code names the module that failed: '.rnn'."""
    for file, _, _, code in reversed(frames):
        if _LIBRARY_PATHS.search(file):
            continue
        call = re.search(r"\bself\.([A-Za-z_][\w.]*)\s*\(", code)
        return "." + call.group(1) if call else None
    return None


def _lines(p: Pattern, facts: ScriptFacts | None, details: dict[str, str]) -> list[ScriptLine]:
    if facts is None:
        return []
    out: list[ScriptLine] = []
    for field in p.point_at:
        value = getattr(facts, field, None)
        for line in value if isinstance(value, list) else [value]:
            if isinstance(line, int) and line > 0:
                out.append(ScriptLine(line=line, code=facts.code(line), why=_LINE_WHY.get(field, field)))
    for pattern in p.point_at_calls:
        for callee, numbers in facts.call_lines.items():
            if fnmatch.fnmatchcase(callee, pattern):
                out += [ScriptLine(line=n, code=facts.code(n), why="related call") for n in numbers]
    if p.id in ("unknown-setter-ignored", "module-id-format", "module-id-unknown"):
        setter, module = details.get("setter"), details.get("module")
        used = (facts.call_lines.get(setter, []) if setter else []) or [
            n for text, numbers in facts.string_lines.items()
            if module and module.strip(".") == text.strip(".") for n in numbers]
        token = setter or module
        out[:0] = [ScriptLine(line=n, code=facts.code(n), why=f"`{token}` is used here")
                   for n in sorted(used)[:1]]
    seen: set[int] = set()
    return [s for s in out if not (s.line in seen or seen.add(s.line))]


def _user_frames(exceptions: list[ExceptionInfo], facts: ScriptFacts | None) -> list[ScriptLine]:
    """Frames of the last exception that are in the user's script (innermost first)."""
    if not exceptions:
        return []
    name = Path(facts.path).name if facts else None
    out = []
    for file, line, func, code in reversed(exceptions[-1].frames):
        mine = Path(file.replace("\\", "/")).name == name if name else not _LIBRARY_PATHS.search(file)
        if mine:
            text = facts.code(line) if facts and facts.code(line) else code
            where = f"in {func}" if func else ""
            out.append(
                ScriptLine(
                    line=line, code=text, why=f"traceback frame {Path(file).name}:{line} {where}".strip()
                )
            )
    return out
