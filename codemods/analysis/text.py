"""Readable rendering of a ScriptReport (the CLI default, reused by other front ends)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods.analysis.report import ScriptReport

__all__ = ["render_text"]


def _lines(items, limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def render_text(r: ScriptReport) -> str:
    """The report as the CLI prints it: the script, then one paragraph per part the integration touches."""
    header = [f"Script: {r.path} ({r.line_count} lines)"]
    if r.local_files:
        header.append(f"  local modules analyzed: {_lines(r.local_files)}")
    paragraphs = [header, _model_lines(r), _library_lines(r), _optimizer_lines(r), _loop_lines(r),
                  _integration_lines(r)]
    if r.notes:
        paragraphs.append([f"Note: {n}" for n in r.notes])
    return "\n\n".join("\n".join(lines) for lines in paragraphs)


def _model_lines(r: ScriptReport) -> list[str]:
    """The architecture and why, the model's classes and library models, the recommended config as code, and
    the options that size the model."""
    m = r.model
    out = [f"Model: {m.architecture}"]
    for e in m.evidence:
        out.append(f"  evidence: {e}")
    for i in m.instances[:3]:
        out.append(f"  instance: {i.variable} = {i.constructor}(...)  [line {i.line}]")
    for c in m.classes[:8]:
        where = f" in {c.file}" if c.file else ""
        kinds = _lines(sorted({layer.kind for layer in c.layers}), 8)
        out.append(f"  class {c.name}  [line {c.line}{where}]  layers: {kinds or '-'}")
    for k in m.known_architectures[:3]:
        out.append(f"  library model: {k.library} {k.name} ({k.family})  [line {k.line}]")
    if m.recommended_config:
        out.append("  recommended perforation config:")
        package = r.integration.package if r.integration.package != "none" else "pai_core"
        out += [f"    {line}" for line in m.recommended_config.required_imports(package)]
        out += [f"    {line}" for line in m.recommended_config.config_lines()]
        out += [
            f"    {line}  # after perforate_model"
            for line in m.recommended_config.override_lines(
                m.instances[0].variable if m.instances else "model"
            )
        ]
    if r.size_knobs:
        out.append(
            "  size knobs: "
            + _lines([f"{k.name}={k.default} ({k.role}, line {k.line})" for k in r.size_knobs], 8)
        )
    return out


def _library_lines(r: ScriptReport) -> list[str]:
    """The training library and how the script runs in parallel."""
    lib = r.training_library
    out = [
        f"Training library: {lib.kind}"
        + (f" ({lib.trainer_class})" if lib.trainer_class else "")
        + (f"; Trainer subclasses: {', '.join(lib.trainer_subclasses)}" if lib.trainer_subclasses else "")
    ]
    p = r.parallelism
    how = "hard-coded" if p.hard_coded else (f"behind {p.flag}" if p.flag else "")
    out.append(
        f"Parallelism: {p.kind}"
        + (f" ({how})" if how and p.kind != "none" else "")
        + (f"; env vars {', '.join(p.env_vars)}" if p.env_vars else "")
        + (f"; also {', '.join(k for k in p.kinds if k != p.kind)}" if len(p.kinds) > 1 else "")
    )
    if p.accelerate is not None:
        out.extend(_accelerate_lines(p.accelerate))
    return out


def _optimizer_lines(r: ScriptReport) -> list[str]:
    """Optimizers, schedulers and their steps, and how the setup converts."""
    out = [
        f"Optimizer: {o.variable or '?'} = {o.type}({', '.join(o.arguments)})  [line {o.line}]"
        for o in r.optimizers
    ] or ["Optimizer: none found"]
    for s in r.schedulers:
        if s.built_by == "manual":
            out.append(f"Scheduler: manual, `{s.text}` writes the learning rate by hand  [line {s.line}]")
        else:
            out.append(f"Scheduler: {s.variable or '?'} = {s.type}(...)  [line {s.line}, {s.built_by}]")
    if r.scheduler_steps:
        out.append("  scheduler.step() at lines " + _lines(s.line for s in r.scheduler_steps))
    out.append(f"  setup: {r.optimizer_setup.kind} - {r.optimizer_setup.reason}")
    out += [f"  note: {finding}" for finding in r.optimizer_setup.findings]
    return out


def _loop_lines(r: ScriptReport) -> list[str]:
    """The epoch loop and what it calls, the validation metric, and the other parts the integration minds."""
    lp = r.epoch_loop
    if lp.kind == "none":
        out = ["Epoch loop: not found"]
    else:
        out = [
            f"Epoch loop: {lp.kind} at line {lp.line}"
            + (f", variable {lp.variable}" if lp.variable else "")
            + (f", bound {lp.bound}" if lp.bound else "")
            + (f"; validates when `{lp.eval_condition}` (one tracker epoch each)" if lp.eval_condition else "")
        ]
        if lp.train_calls:
            out.append("  train calls: " + _lines(f"{e.detail} (line {e.line})" for e in lp.train_calls))
        if lp.validation_calls:
            out.append(
                "  validation calls: " + _lines(f"{e.detail} (line {e.line})" for e in lp.validation_calls)
            )
    v = r.validation
    if v.metric:
        how = "returned" if v.metric_returned else ("only printed" if v.metric_only_printed else "assigned")
        split = f", {v.split} split" if v.split else ""
        out.append(f"Validation: {v.function or 'inline'}() -> {v.metric} ({how}), direction {v.direction}{split}")
        for e in v.evidence[:4]:
            out.append(f"  line {e.line}: {e.detail}")
    else:
        out.append("Validation: metric not found")
    out.append(
        f"Test set: {'yes' if r.test_set.present else 'no'}; early stopping: "
        f"{'yes' if r.early_stopping.present else 'no'}; AMP: {'yes' if r.amp.present else 'no'}; "
        f"EMA: {'yes' if r.ema.present else 'no'}"
    )
    return out


def _integration_lines(r: ScriptReport) -> list[str]:
    """The dendrite integration found: its level, each step ticked off, its warnings and 2024 API names."""
    ig = r.integration
    out = [
        f"Dendrite integration: {ig.level} (package {ig.package}, API generation {ig.generation}, "
        f"capacity flag {ig.capacity_flag})"
    ]
    for s in ig.steps:
        mark = {"present": "[x]", "missing": "[ ]", "not_applicable": "[-]"}[s.status]
        lines = f" lines {_lines(s.lines)}" if s.lines else ""
        out.append(f"  {mark} {s.name}{lines}" + (f" - {s.detail}" if s.detail else ""))
    for w in ig.warnings:
        out.append(f"  warning: {w}")
    for old in ig.old_api:
        out.append(f"  2024 API: {old.text} (line {old.line}) - {old.detail}")
    return out


def _accelerate_lines(a) -> list[str]:
    """What an HF Accelerate loop routes through its Accelerator."""
    def at(lines: list[int]) -> str:
        return f"line {', '.join(map(str, lines))}" if lines else "none"

    out = [f"  Accelerate: {a.accelerator} = {a.call}  [line {a.line}]"]
    out += [f"    prepare({', '.join(p.arguments)})  [line {p.line}]" for p in a.prepares] or ["    prepare: none"]
    out.append(f"    backward: {at(a.backward_lines)}; unwrap_model: {at(a.unwrap_lines)}; "
               f"wait_for_everyone: {at(a.wait_lines)}")
    if a.plugins:
        out.append(f"    sharding plugins: {', '.join(a.plugins)}")
    return out
