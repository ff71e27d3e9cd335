"""Run the integration rules over a script: one parse, one analysis, the rules in order, a diff, a safe write.

This is the library API the CLI and the MCP server call:
`perforate_source`, `perforate_file`, `set_capacity_test`. Nothing is written unless asked, and a write is
atomic (temporary file in the same folder + os.replace), in the file's own encoding, with the bytes it
replaces kept in the first free one of `PATH.orig`, `PATH.orig.1`, ... (the path is `PerforateResult.backup`).
"""

from __future__ import annotations

import difflib
import functools
import gc
import itertools
import logging
import os
import tempfile
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile
from pydantic import BaseModel, Field

from codemods.rules import gather_rules
from codemods.rules._base import (
    FINDINGS_KEY,
    LINE_MAP_KEY,
    NAMES_KEY,
    REPORT_KEY,
    SOURCE_KEY,
    refusal_reason,
)
from codemods.rules._lines import LineMap, render, seed_render
from codemods.rules.capacity_test import SetCapacityTest
from codemods.rules.training_loop import ConvertTrainingLoop
from codemods.rules.unsupported import RefuseUnsupportedSetups
from codemods.verify import integration_gaps
from pai_core.findings import Finding

__all__ = ["PerforateResult", "perforate_file", "perforate_source", "set_capacity_test"]

logger = logging.getLogger(__name__)


class PerforateResult(BaseModel):
    filename: str
    new_source: str
    diff: str = Field(description="unified diff original -> new ('' when unchanged)")
    changed: bool
    applied: list[str] = Field(default=[], description="codes of the rules that changed the script")
    findings: list[Finding] = Field(default=[], description="the rules' findings, with lines of the original "
                                    "script: warnings (applied with a caveat), errors (a change not made, or why "
                                    "the rewrite is refused) and infos (a change not made: it is there already)")
    refused: bool = Field(default=False, description="nothing was rewritten: the script needs a manual "
                          "integration; the findings name each step that could not be placed and how to do it")
    written: bool = False
    backup: str | None = Field(default=None, description="the file holding the script as it was before this "
                               "write (PATH.orig, or PATH.orig.1, ... when an older backup is kept)")

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def _collector_paused(function):
    """Run `function` with the cyclic garbage collector paused.

    A rewrite allocates some 10^5 short-lived libcst nodes, which set the collector off dozens of times (about
    15% of the run, measured on a 1,000-line script); they are freed by reference counting anyway, so the
    collector runs once the rewrite is done. Scripts are at most 128 KB, which bounds what accumulates.
    """
    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_collector_paused
def perforate_source(
    source: str,
    *,
    filename: str = "<string>",
    backend: str = "pai_core",
    select: str | list[str] | None = None,
    save_name: str | None = None,
    keep_for_loop: bool = False,
    extra_scores: bool = False,
    capacity_test: bool | None = None,
    model_var: str | None = None,
    path: str | Path | None = None,
) -> PerforateResult:
    """Rewrite a training script so it trains with dendrites; returns the new text, a diff and findings.

    `select` picks rule codes/prefixes (default: all but PAI007); `capacity_test` True/False alone (without
    `select`) only toggles the capacity-test flag; `model_var` names the model to perforate when the script
    builds several; `path` (the file the source came from) lets the analysis follow the script's own modules.
    The default run returns a complete integration that `pai
    check` passes, or a refusal (`refused`, the source unchanged, findings saying which step failed and how to
    do it by hand). Raises `cst.ParserSyntaxError` for unparsable code.
    """
    from codemods.analysis import analyze_source
    from codemods.analysis.facts import collect_facts
    from codemods.analysis.source import parse_source

    if select is None and capacity_test is not None:
        select = [SetCapacityTest.CODE]
    rules = gather_rules(select)
    tree = parse_source(source, filename)  # a syntax error becomes a ScriptError saying what to do
    facts = collect_facts(tree, filename)
    report = analyze_source(source, filename=filename, facts=facts, path=path, model_var=model_var)
    context = _rule_context(source, filename, report, facts)
    options = {"backend": backend, "save_name": save_name, "keep_for_loop": keep_for_loop,
               "extra_scores": extra_scores, "capacity_test": capacity_test}
    refused = refusal_reason(report, loop=ConvertTrainingLoop in rules) is not None
    if refused:  # nothing is rewritten; the refusal rule records why and what to do by hand
        rules = [RefuseUnsupportedSetups]
    tree, new_source, applied, found = _apply_rules(rules, context, tree, source, options)
    findings = list(found)
    if not refused and select is None:  # the full rewrite: a complete integration, or nothing at all
        gaps = _gaps(found, new_source, tree, filename)
        if gaps:
            refused, new_source, applied = True, source, []
            findings += gaps
    return PerforateResult(filename=filename, new_source=new_source, diff=_diff(source, new_source, filename),
                           changed=new_source != source, applied=applied, findings=findings, refused=refused)


def _rule_context(source: str, filename: str, report, facts) -> CodemodContext:
    """The context every rule reads: the analysis, the names in use, the analysis' rendering of the tree (the
    rules start from it) and the map from the original lines to the current ones."""
    context = CodemodContext(filename=filename)
    context.scratch[REPORT_KEY] = report
    context.scratch[NAMES_KEY] = set(facts.names)
    seed_render(context.scratch, facts)
    context.scratch[LINE_MAP_KEY] = LineMap(source)
    return context


def _apply_rules(rules, context: CodemodContext, tree: cst.Module, source: str,
                 options: dict) -> tuple[cst.Module, str, list[str], list[Finding]]:
    """Run the rules in turn, each on the text the previous one left: (tree, text, codes of the rules that
    changed it, findings)."""
    line_map = context.scratch[LINE_MAP_KEY]
    applied: list[str] = []
    current = source
    for rule_class in rules:
        context.scratch[SOURCE_KEY] = (tree, current)
        rule = rule_class(context, **options)
        try:
            new_tree = rule.transform_module(tree)
        except SkipFile:
            continue
        context = rule.context
        new_code = render(new_tree, context.scratch)[1]  # also indexes the statements for the next rule
        if new_code != current:
            applied.append(rule.CODE)
            tree, current = new_tree, new_code
            line_map.update(current)
    return tree, current, applied, context.scratch.get(FINDINGS_KEY, [])


def _gaps(found: list[Finding], new_source: str, tree: cst.Module, filename: str) -> list[Finding]:
    """What keeps the rewrite from being a complete integration, as errors; a rule's errors and infos (the
    changes it did not make) say why."""
    not_made: dict[str, list[str]] = {}
    for f in found:
        if f.severity != "warning":
            not_made.setdefault(f.code, []).append(f.message)
    return integration_gaps(new_source, tree, filename, not_made)


def _diff(source: str, new_source: str, filename: str) -> str:
    name = diff_name(filename)
    return "".join(difflib.unified_diff(source.splitlines(keepends=True), new_source.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))


def perforate_file(path: str | Path, *, write: bool = False, backup: bool = True, **options) -> PerforateResult:
    """`perforate_source` on a file; `write=True` replaces it atomically in its own encoding, with a backup."""
    from codemods.analysis.source import decode_script

    p = Path(path)
    source, encoding = decode_script(p)
    result = perforate_source(source, filename=str(p), path=p, **options)
    if write and result.changed:  # the rules add ASCII only, which every Python source encoding holds
        result.backup = atomic_write(p, result.new_source.encode(encoding), backup)
        result.written = True
    return result


def set_capacity_test(source_or_path: str | Path, enabled: bool, *, write: bool = False,
                      backup: bool = True) -> PerforateResult:
    """Switch `GPA.pc.set_testing_dendrite_capacity` to `enabled` in script text or a file (PAI007)."""
    if isinstance(source_or_path, Path) or _names_a_file(source_or_path):
        return perforate_file(source_or_path, write=write, backup=backup, capacity_test=enabled)
    return perforate_source(str(source_or_path), capacity_test=enabled)


def _names_a_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except OSError:  # a one-line script longer than a file name can be
        return False


def diff_name(filename: str) -> str:
    """The name in a diff header: relative to the working folder when inside it, else the file name."""
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            path = Path(path.name)
    return path.as_posix()


def atomic_write(path: Path, data: bytes, backup: bool) -> str | None:
    """Replace `path` with `data` atomically; returns the backup holding the bytes it replaced."""
    original = path.read_bytes()
    backup_path = _keep_backup(path, original) if backup else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return backup_path


def _keep_backup(path: Path, original: bytes) -> str:
    """Store `original` in the first of PATH.orig, PATH.orig.1, ... that is free or already holds exactly it.

    An existing backup of other content (an earlier version) is never overwritten nor reported as this one.
    """
    for n in itertools.count():
        candidate = Path(f"{path}.orig" + (f".{n}" if n else ""))
        try:
            handle = open(candidate, "xb")  # exclusive: never replaces a file another run just made
        except FileExistsError:
            if candidate.is_file() and candidate.read_bytes() == original:
                return str(candidate)
            continue
        with handle:
            try:
                handle.write(original)
            except BaseException:
                candidate.unlink()  # no half backup left behind to be mistaken for an earlier version
                raise
        return str(candidate)
