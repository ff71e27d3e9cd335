"""Put the concerns together: parse once, collect facts once, derive every section of the report.

Each section is derived independently; a surprise in one (unusual code we did not foresee) leaves that
section at its empty default with a note instead of failing the whole analysis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import libcst as cst

from codemods.analysis.facts import Facts, collect_facts
from codemods.analysis.integration import analyze_integration
from codemods.analysis.knobs import analyze_arguments, defaults, size_knobs
from codemods.analysis.library import analyze_library
from codemods.analysis.local_imports import local_modules
from codemods.analysis.loop import analyze_loop, analyze_presence
from codemods.analysis.model import analyze_model, choose_model, device_moves, model_built_optimizers
from codemods.analysis.optim import analyze_optim
from codemods.analysis.order import runs_before
from codemods.analysis.parallel import analyze_parallelism
from codemods.analysis.report import ImportInfo, OptimizerSetup, ScriptReport
from codemods.analysis.source import parse_source, read_script

__all__ = ["analyze_script", "analyze_source"]

log = logging.getLogger(__name__)


def analyze_script(path: str | Path, *, model_var: str | None = None) -> ScriptReport:
    """Analyze a training script file (and the local modules it imports) without running it."""
    p = Path(path)
    return _analyze(read_script(p), str(p), p, model_var=model_var)


def analyze_source(source: str, filename: str = "<string>", *, module: cst.Module | None = None,
                   path: str | Path | None = None, model_var: str | None = None,
                   facts: Facts | None = None) -> ScriptReport:
    """Analyze script text; with the `path` it was read from, the local modules it imports are followed
    exactly as `analyze_script` does (the codemods and `pai check` see what `pai analyze-script` sees).

    A caller that already parsed `source` (the codemods) passes the `module` so it is not parsed twice, or
    its `facts` (`collect_facts(module)`, which `pai check` reads too) so it is not walked twice;
    `model_var` names the model to perforate when the script builds several (`pai perforate --model`).
    """
    return _analyze(source, filename, Path(path) if path is not None else None, module, model_var, facts)


def _guard(report: ScriptReport, section: str, fn: Callable, default=None):
    try:
        return fn()
    except Exception as exc:
        log.debug("analysis of %s failed", section, exc_info=True)
        report.notes.append(
            f"{section}: left empty, the analysis hit an unexpected construct ({type(exc).__name__}: {exc})"
        )
        return default


def _fill(report: ScriptReport, attr: str, section: str, fn: Callable) -> None:
    """Set the report's `attr` to what `fn` derives, or leave it at its default when `fn` fails."""
    value = _guard(report, section, fn)
    if value is not None:
        setattr(report, attr, value)


def _analyze(source: str, filename: str, path: Path | None, module: cst.Module | None = None,
             model_var: str | None = None, facts: Facts | None = None) -> ScriptReport:
    """Every section in the order their inputs need: the settings before the model they size, the model
    before the loop and optimizers that train it, those before the integration that must register them."""
    if facts is None:
        facts = collect_facts(module if module is not None else parse_source(source, filename), filename)
    report = ScriptReport(path=filename, line_count=facts.line_count)
    local = _guard(report, "local imports", lambda: local_modules(facts, path, report.notes), []) or []
    local_by_path = {f.filename for f in local}
    report.local_files = sorted(local_by_path)
    report.imports = [
        ImportInfo(module=("." * i.level) + i.module, name=i.name, alias=i.alias, line=i.line,
                   local_file=_local_file(i, path, local_by_path))
        for i in facts.imports
    ]
    report.arguments = _arguments(report, facts, local, path)
    report.size_knobs = size_knobs(report.arguments)
    arg_defaults = defaults(report.arguments)
    _fill(report, "training_library", "training library", lambda: analyze_library(facts))
    _fill(report, "model", "model", lambda: analyze_model(facts, local, arg_defaults))
    model_vars = list(dict.fromkeys([i.variable for i in report.model.instances] + ["model"]))
    _loop(report, facts, model_vars)
    _optimizers(report, facts, local, model_vars)
    _guard(report, "model choice", lambda: _choose_model(report, facts, local, arg_defaults, model_var))
    kind = report.training_library.kind
    strategy = _lightning_strategy(facts) if kind in ("lightning", "lightning_fabric") else None
    _fill(report, "parallelism", "parallelism",
          lambda: analyze_parallelism(facts, report.arguments, strategy, local))
    _integration(report, facts, model_vars)
    _notes(report)
    return report


def _arguments(report: ScriptReport, facts: Facts, local: list[Facts], path: Path | None) -> list:
    """The script's settings, then those of the local modules it imports (config modules beside the script
    often hold the size knobs)."""
    arguments = (
        _guard(report, "arguments", lambda: analyze_arguments(facts, path.parent if path else None), []) or []
    )
    for lf in local:
        more = _guard(report, "arguments", lambda lf=lf: analyze_arguments(lf, None), []) or []
        for a in more:
            a.file = lf.filename
        arguments += more
    return arguments


def _loop(report: ScriptReport, facts: Facts, model_vars: list[str]) -> None:
    """The epoch loop and its validation, then the parts it may already have (test set, early stopping, ...)."""
    loop = _guard(report, "epoch loop", lambda: analyze_loop(facts, model_vars, report.training_library.kind))
    if loop is not None:
        report.epoch_loop, report.validation = loop
    presence = (
        _guard(report, "test set / early stopping", lambda: analyze_presence(facts, report.epoch_loop)) or {}
    )
    for key, value in presence.items():
        setattr(report, key, value)


def _optimizers(report: ScriptReport, facts: Facts, local: list[Facts], model_vars: list[str]) -> None:
    """The optimizers, schedulers and how their setup converts (an EMA model or a GradScaler must be rebuilt
    with the optimizer); an optimizer the model builds itself is kept and registered."""
    optim = _guard(
        report,
        "optimizer",
        lambda: analyze_optim(
            facts,
            model_vars,
            report.epoch_loop.function,
            report.training_library.kind,
            [e.line for e in report.ema.evidence],
            [e.line for e in report.amp.evidence if "GradScaler" in e.text],
        ),
    )
    if optim is not None:
        report.optimizers, report.schedulers, report.scheduler_steps, report.optimizer_setup = optim
    built = _guard(report, "optimizer", lambda: model_built_optimizers(report.model, facts, local), []) or []
    if built and not report.optimizers:  # nanoGPT's model.configure_optimizers(...): keep it, register it
        report.optimizers = built
        report.optimizer_setup = OptimizerSetup(
            kind="complex", reason=f"built by the model's own {built[0].type}(): kept, its instance is registered")


def _integration(report: ScriptReport, facts: Facts, model_vars: list[str]) -> None:
    """The dendrite integration already in the script, checked against the optimizers and the metric."""
    kind = report.training_library.kind
    integration = _guard(report, "integration", lambda: analyze_integration(facts, kind, model_vars))
    if integration is not None:
        report.integration = integration
        _guard(report, "integration", lambda: _optimizers_before_perforate(report, facts))
        _integration_warnings(report)


def _choose_model(report: ScriptReport, facts: Facts, local: list[Facts], arg_defaults, model_var) -> None:
    """Which model is perforated; with several, the config is recommended from that one's classes."""
    info = report.model
    choose_model(info, facts, report.optimizers, report.validation, model_var)
    if info.variable and len({i.variable for i in info.instances}) > 1:
        focused = analyze_model(facts, local, arg_defaults, focus=info.variable)
        focused.variable, focused.choice, focused.question = info.variable, info.choice, info.question
        report.model = focused
    report.model.moved_to = device_moves(facts)


def _local_file(imp, path: Path | None, local: set[str]) -> str | None:
    if path is None or not local:
        return None
    parts = [p for p in imp.module.split(".") if p]
    for f in local:
        stem = Path(f)
        if parts and (stem.stem == parts[-1] or stem.parent.name == parts[-1] and stem.name == "__init__.py"):
            return f
        if imp.name and stem.stem == imp.name:
            return f
    return None


def _lightning_strategy(facts: Facts) -> str | None:
    """`strategy=`/`devices=` of a Lightning Trainer or Fabric that may run on several devices."""
    for c in facts.calls:
        if c.qname.rsplit(".", 1)[-1] in ("Trainer", "Fabric"):
            picked = {k: v for k, v in c.kwargs.items() if k in ("strategy", "devices", "gpus", "num_nodes")}
            single = all(
                v.strip("'\" []") in ("1", "0", "None", "cpu") for k, v in picked.items() if k != "strategy"
            )
            if "strategy" in picked or (picked and not single):
                return ", ".join(f"{k}={v}" for k, v in picked.items())
    return None


def _optimizers_before_perforate(report: ScriptReport, facts: Facts) -> None:
    """Which optimizers are built before each perforate_model call runs (they would hold the old parameters)."""
    before = runs_before(facts)
    info = report.integration
    for call in facts.calls:
        if call.attr in ("perforate_model", "initialize_pai") and call.line in info.calls.get(call.attr, ()):
            info.optimizers_before_perforate[call.line] = [
                o.line for o in report.optimizers if before(o.line, o.function, call.line, call.function)]


def _integration_warnings(report: ScriptReport) -> None:
    call = report.integration.perforate_call
    direction = report.validation.direction
    if call is None:
        return
    flag = (call.maximizing_score or "").strip()
    if direction == "minimize" and flag in ("", "True"):
        report.integration.warnings.append(
            f"the validation metric '{report.validation.metric}' is minimized but {call.function} at line "
            f"{call.line} {'does not pass maximizing_score (default True)' if not flag else 'passes True'}: "
            "pass maximizing_score=False"
        )
    if direction == "maximize" and flag == "False":
        report.integration.warnings.append(
            f"the validation metric '{report.validation.metric}' is maximized but maximizing_score=False "
            f"at line {call.line}"
        )
    if report.integration.capacity_flag == "False" and report.integration.level != "complete":
        report.integration.warnings.append(
            "the dendrite capacity test is switched off before the integration is complete: keep it on "
            "(True) until the first run prints the success message"
        )


def _notes(report: ScriptReport) -> None:
    if report.integration.old_api:
        report.notes.append("an old-API script was found (the 2024 pb_globals / pb_utils names): migrate first with "
                            "`pai migrate` (MCP: pai_migrate_script), then work on the current API")
    if not report.model.instances and not report.model.classes and not report.model.known_architectures:
        report.notes.append("no model found: is it built in a module that is not beside the script?")
    if report.epoch_loop.kind == "none":
        report.notes.append("no epoch loop found")
    if report.validation.metric is None:
        report.notes.append("no validation metric found")
    elif report.validation.direction == "unknown":
        report.notes.append(
            f"the direction of '{report.validation.metric}' is unknown: ask whether higher is better"
        )
    if report.epoch_loop.validates_after:
        v = report.validation
        data = (f"on `{v.held_out}`, the validation loader it builds" if v.held_out != v.loader
                else f"on a held-out half of `{v.loader}`" if v.loader else "once it is given its data")
        report.notes.append(
            f"no validation in the epoch loop: the script trains, then runs {v.function}() once (line "
            f"{v.call_line}); the rewrite runs it every epoch {data} for add_validation_score"
        )
    if report.validation.metric_only_printed:
        report.notes.append(
            f"{report.validation.function}() only prints its metric: it must return it for add_validation_score"
        )
