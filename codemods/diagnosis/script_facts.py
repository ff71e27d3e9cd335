"""Facts about the user's training script that confirm or rule out a cause, with the lines to point at.

The static analysis (`codemods.analysis.analyze_script`) is the main source. It is evolving, so every field is
read defensively, and a line scan of the source fills whatever the report does not say: a diagnosis must
still point at the optimizer line when the analysis cannot parse the script (users paste broken code too).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)


class ScriptFacts(BaseModel):
    path: str
    source_lines: list[str] = Field(default_factory=list, repr=False)
    perforate_model_line: int | None = None
    optimizer_line: int | None = None
    setup_optimizer_line: int | None = None
    set_optimizer_instance_line: int | None = None
    add_validation_score_line: int | None = None
    restructure_branch_line: int | None = None
    optimizer_rebuilt_on_restructure: bool | None = None
    to_device_after_validation: bool | None = None
    output_dimensions: list[int] | None = None
    output_dimensions_line: int | None = None
    this_output_dimensions_lines: list[int] = Field(default_factory=list)
    dataparallel_line: int | None = None
    ddp_line: int | None = None
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
    calls_add_validation_score: bool | None = None
    maximizing_score: bool | None = None
    legacy_name_lines: list[int] = Field(default_factory=list)
    legacy_names: list[str] = Field(default_factory=list)
    layer_classes: dict[str, str] = Field(
        default_factory=dict, description="attribute -> layer class, e.g. rnn -> LSTM"
    )
    analysis_used: bool = False

    def code(self, line: int | None) -> str:
        if line is None or not 1 <= line <= len(self.source_lines):
            return ""
        return self.source_lines[line - 1].strip()


# Names from the two earlier generations of the upstream API (camelCase era and mid-2025 snake_case).
LEGACY_NAMES = (
    "initialize_pai",
    "initializePB",
    "convertNetwork",
    "addValidationScore",
    "addExtraScore",
    "addTestScore",
    "setupOptimizer",
    "setOptimizer",
    "setOptimizerInstance",
    "setThisInputDimensions",
    "set_this_input_dimensions",
    "set_input_dimensions",
    "pbValueTracker",
    "mainModule",
    "_to_convert",
    "PBG.",
    "PBU.",
    "gf.",
)


def _first(lines: list[str], pattern: str) -> int | None:
    rx = re.compile(pattern)
    for number, text in enumerate(lines, 1):
        if rx.search(text.split("#", 1)[0]):
            return number
    return None


def _last(lines: list[str], pattern: str) -> int | None:
    rx = re.compile(pattern)
    hit = None
    for number, text in enumerate(lines, 1):
        if rx.search(text.split("#", 1)[0]):
            hit = number
    return hit


def _bool_arg(line: str) -> bool | None:
    m = re.search(r"\(\s*(True|False|1|0)\s*\)", line)
    return None if m is None else m.group(1) in ("True", "1")


def scan_source(path: str, source: str) -> ScriptFacts:
    """Line-level facts; coarse but never fails on code the analysis cannot parse."""
    lines = source.splitlines()
    facts = ScriptFacts(path=path, source_lines=lines)
    facts.perforate_model_line = _first(
        lines, r"\b(perforate_model|initialize_pai|initializePB|convertNetwork)\s*\("
    )
    facts.setup_optimizer_line = _first(lines, r"\b(setup_optimizer|setupOptimizer)\s*\(")
    facts.set_optimizer_instance_line = _first(lines, r"\b(set_optimizer_instance|setOptimizerInstance)\s*\(")
    direct = _first(lines, r"\b(optim\.[A-Z]\w*|Adam\w*|SGD|RMSprop|Adagrad|LBFGS)\s*\(")
    facts.optimizer_line = facts.setup_optimizer_line or direct
    facts.add_validation_score_line = _first(lines, r"\b(add_validation_score|addValidationScore)\s*\(")
    facts.calls_add_validation_score = facts.add_validation_score_line is not None
    facts.restructure_branch_line = _first(lines, r"^\s*(el)?if\s+.*\b(restructured|restructure\w*)\b.*:")
    if facts.restructure_branch_line is not None:
        body = _block_after(lines, facts.restructure_branch_line)
        facts.optimizer_rebuilt_on_restructure = any(
            re.search(
                r"setup_optimizer|setupOptimizer|optim\.[A-Z]|set_optimizer_instance|\b\w*optim\w*\s*\(", text
            )
            for text in body
        )
    elif facts.calls_add_validation_score:
        facts.optimizer_rebuilt_on_restructure = False
    if facts.add_validation_score_line is not None:
        after = lines[facts.add_validation_score_line : facts.add_validation_score_line + 8]
        facts.to_device_after_validation = any(re.search(r"\.to\(|\.cuda\(", t) for t in after)
    dims = _last(lines, r"\bset_output_dimensions\s*\(|\bset_input_dimensions\s*\(")
    if dims is not None:
        facts.output_dimensions_line = dims
        m = re.search(r"\[([-\d,\s]+)\]", lines[dims - 1])
        if m:
            facts.output_dimensions = [int(v) for v in m.group(1).replace(" ", "").split(",") if v]
    facts.this_output_dimensions_lines = [
        n for n, t in enumerate(lines, 1) if re.search(r"set_this_(output|input)_dimensions\s*\(", t)
    ]
    facts.dataparallel_line = _first(lines, r"\bDataParallel\s*\(")
    facts.ddp_line = _first(lines, r"\b(DistributedDataParallel|DDP)\s*\(")
    capacity = _last(lines, r"set_testing_dendrite_capacity\s*\(")
    if capacity is not None:
        facts.capacity_test_line, facts.capacity_test = capacity, _bool_arg(lines[capacity - 1])
    confirmed = _last(lines, r"set_configuration_confirmed\s*\(")
    if confirmed is not None:
        facts.configuration_confirmed_line = confirmed
        facts.configuration_confirmed = _bool_arg(lines[confirmed - 1])
    else:
        facts.configuration_confirmed = False
    facts.processors_configured = _first(lines, r"processing|Processor") is not None
    facts.scheduler_step_line = _first(lines, r"\bsched\w*\.step\s*\(")
    facts.grad_scaler_line = _first(lines, r"\bGradScaler\s*\(")
    facts.while_true_loop = _first(lines, r"^\s*while\s+(True|not\s+\w+)\s*:") is not None
    facts.for_range_loop_line = _first(lines, r"^\s*for\s+\w+\s+in\s+(t?range|trange)\s*\(")
    max_line = _first(lines, r"maximizing_score\s*=\s*(True|False)")
    if max_line is not None:
        facts.maximizing_score = "True" in lines[max_line - 1].split("maximizing_score", 1)[1][:8]
    if facts.dataparallel_line or facts.ddp_line:
        call = lines[facts.add_validation_score_line - 1] if facts.add_validation_score_line else ""
        facts.tracker_given_wrapper = bool(call) and ".module" not in call
    for m in re.finditer(r"self\.(\w+)\s*=\s*(?:torch\.)?(?:nn\.)?([A-Z]\w*)\(", source):
        facts.layer_classes.setdefault(m.group(1), m.group(2))
    for name in LEGACY_NAMES:
        hit = _first(lines, re.escape(name) if not name.endswith(".") else r"\b" + re.escape(name))
        if hit is not None:
            facts.legacy_names.append(name.strip("._"))
            facts.legacy_name_lines.append(hit)
    return facts


def _block_after(lines: list[str], header: int) -> list[str]:
    """Lines of the indented block that starts after line `header` (1-based)."""
    indent = len(lines[header - 1]) - len(lines[header - 1].lstrip())
    body = []
    for text in lines[header:]:
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        body.append(text)
    return body


def _get(obj: Any, path: str) -> Any:
    """obj.a.b (or dict keys); None as soon as a part is missing: the report is still evolving."""
    for name in path.split("."):
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def merge_report(facts: ScriptFacts, report: Any) -> ScriptFacts:
    """Prefer the static analysis' answers (it resolves aliases and local imports); keep the scan elsewhere."""
    steps = {getattr(step, "name", None): step for step in (_get(report, "integration.steps") or [])}

    def step(name: str) -> tuple[bool | None, int | None]:
        found = steps.get(name)
        if found is None or getattr(found, "status", None) not in ("present", "missing"):
            return None, None
        lines = getattr(found, "lines", None) or []
        return found.status == "present", (_int(lines[0]) if lines else None)

    facts.perforate_model_line = (
        _int(_get(report, "integration.perforate_call.line")) or facts.perforate_model_line
    )
    maximizing = _get(report, "integration.perforate_call.maximizing_score")
    if maximizing in ("True", "False"):
        facts.maximizing_score = maximizing == "True"
    present, line = step("add_validation_score")
    if present is not None:
        facts.calls_add_validation_score = present
        facts.add_validation_score_line = line or facts.add_validation_score_line
        if present:
            rebuilt, _ = step("restructure_optimizer_rebuild")
            if rebuilt is not None:
                facts.optimizer_rebuilt_on_restructure = rebuilt
            moved, _ = step("model_to_device_after_restructure")
            if moved is not None:
                facts.to_device_after_validation = moved
    registered, line = step("optimizer_registration")
    if registered and line:
        detail = getattr(steps["optimizer_registration"], "detail", "") or ""
        if "instance" in detail.lower():
            facts.set_optimizer_instance_line = facts.set_optimizer_instance_line or line
        else:
            facts.setup_optimizer_line = facts.setup_optimizer_line or line
    optimizers = _get(report, "optimizers") or []
    if optimizers and _int(getattr(optimizers[0], "line", None)) and facts.setup_optimizer_line is None:
        facts.optimizer_line = optimizers[0].line
    capacity = _get(report, "integration.capacity_flag")
    if capacity in ("True", "False"):
        facts.capacity_test = capacity == "True"
    kind = _get(report, "parallelism.kind")
    evidence = _get(report, "parallelism.evidence") or []
    first = _int(getattr(evidence[0], "line", None)) if evidence else None
    if kind == "DataParallel" and first:
        facts.dataparallel_line = facts.dataparallel_line or first
    elif kind == "DistributedDataParallel" and first:
        facts.ddp_line = facts.ddp_line or first
    amp = _get(report, "amp.evidence") or []
    if _get(report, "amp.present") and amp and facts.grad_scaler_line is None:
        facts.grad_scaler_line = _int(getattr(amp[0], "line", None))
    loop = _get(report, "epoch_loop.kind")
    if loop == "while":
        facts.while_true_loop = True
    elif loop == "for-range":
        facts.while_true_loop = False
        facts.for_range_loop_line = _int(_get(report, "epoch_loop.line")) or facts.for_range_loop_line
    for layer in _get(report, "model.layers") or []:
        attribute, kind = getattr(layer, "attribute", None), getattr(layer, "kind", None)
        if isinstance(attribute, str) and isinstance(kind, str):
            facts.layer_classes.setdefault(attribute, kind)
    generation = _get(report, "integration.generation")
    if generation in ("initialize_pai", "pb") and not facts.legacy_names:
        facts.legacy_names.append(f"{generation}-era API")
    facts.analysis_used = True
    return facts


def collect_facts(script: str | Path) -> ScriptFacts:
    """Read the script, scan it, then fold in the static analysis when it is available and succeeds."""
    path = Path(script)
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(
            f"cannot read the script {path}: {exc.strerror or exc}. Pass the training script's path."
        ) from exc
    facts = scan_source(str(path), source)
    try:
        from codemods.analysis import analyze_script
    except ImportError:
        log.info("codemods.analysis not available; using the line scan only")
        return facts
    try:
        report = analyze_script(path)
    except Exception as exc:  # noqa: BLE001 - optional evidence: its failure must not hide the diagnosis
        log.warning("static analysis failed on %s (%s); using the line scan only", path, exc)
        return facts
    return merge_report(facts, report)
