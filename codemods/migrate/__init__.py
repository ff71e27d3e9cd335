"""`pai migrate`: rewrite a script of the 2024 camelCase API (`pb_globals as PBG`, `pb_utils as PBU`,
`pb_models as PBM`, `globalsFile as gf`) to today's (`GPA`, `UPA`, `LPA`), so it leaves the old names behind.

The library API the CLI and the MCP server call: `migrate_source`, `migrate_file`. All or nothing, like `pai
perforate`: a script with a 2024 name no rule can map is refused, the source unchanged, each such name in the
findings with its line (PAI201-PAI206 for the rule that met it, PAI200 for a reference to a 2024 module no rule
maps). `MigrateToCurrentAPI` runs every rule under libcst's own tool:
`python -m libcst.tool codemod -x --no-format codemods.migrate.MigrateToCurrentAPI FILE`.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

import libcst as cst
from libcst.codemod import Codemod, CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider
from pydantic import Field

from codemods.migrate._base import REFUSALS_KEY, MigrationRefused, MigrationRule, legacy_name
from codemods.migrate.rules import RULES
from codemods.perforate import PerforateResult, atomic_write, diff_name
from pai_core.findings import Finding

__all__ = ["MigrateResult", "MigrateToCurrentAPI", "MigrationRefused", "migrate_file", "migrate_source"]


class MigrateResult(PerforateResult):
    refused: bool = Field(default=False, description="nothing was rewritten: the script uses a 2024 name pai "
                          "cannot map; the findings name each one with its line and what to do")


def migrate_tree(tree: cst.Module, filename: str = "<string>") -> tuple[cst.Module, list[str], list[Finding]]:
    """Every rule in order over `tree`: (the new tree, codes of the rules that changed it, refusals)."""
    context = CodemodContext(filename=filename)
    context.scratch[REFUSALS_KEY] = refusals = []
    applied, original = [], tree
    for rule_class in RULES:
        rule = rule_class(context)
        new = Codemod.transform_module(rule, tree)  # the import visitors run once, at the end
        if not new.deep_equals(tree):
            applied.append(rule.CODE)
        tree = new
    before = tree
    needed = context.scratch.get(AddImportsVisitor.CONTEXT_KEY)
    if needed:  # each rule asks for the imports it uses: once each
        context.scratch[AddImportsVisitor.CONTEXT_KEY] = list(dict.fromkeys(needed))
    for visitor in (AddImportsVisitor, RemoveImportsVisitor):
        if visitor.CONTEXT_KEY in context.scratch:
            tree = visitor(context).transform_module(tree)
    if not tree.deep_equals(before) and RULES[-1].CODE not in applied:
        applied.append(RULES[-1].CODE)
    if not refusals:  # reported where the user wrote them: the rewritten tree has other lines
        left = {text for _, text in _references(tree)}
        refusals += [Finding(code=MigrationRule.CODE, severity="error", file=filename, line=line, message=(
            f"`{text}` has no current-API name pai can map (a value of the script's own kept on the 2024 module, or "
            "a name the README's upstream-names table lists as absent): keep it in a variable of your own or remove "
            "it, then run pai migrate again")) for line, text in _references(original) if text in left]
    return tree, applied, refusals


class _Leftovers(cst.CSTVisitor):
    """Every outermost reference to a 2024 module that survived the rules: a name nothing could map."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    def _check(self, node: cst.BaseExpression) -> bool:
        legacy = legacy_name(node, self.get_metadata(QualifiedNameProvider, node, set()))
        if legacy is None:
            return True
        self.found.append((self.get_metadata(PositionProvider, node).start.line,
                           cst.Module(body=[]).code_for_node(node)))
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._check(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._check(node)


def _references(tree: cst.Module) -> list[tuple[int, str]]:
    visitor = _Leftovers()
    MetadataWrapper(tree).visit(visitor)
    return visitor.found


def migrate_source(source: str, *, filename: str = "<string>") -> MigrateResult:
    """Rewrite a 2024-API script to the current API: the new text, a diff, and the findings. Raises ScriptError
    for a file that is not parseable Python (it says what to do)."""
    from codemods.analysis.source import parse_source

    tree = parse_source(source, filename)
    new_tree, applied, refusals = migrate_tree(tree, filename)
    new_source = source if refusals else new_tree.code
    name = diff_name(filename)
    diff = "".join(difflib.unified_diff(source.splitlines(keepends=True), new_source.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))
    return MigrateResult(filename=filename, new_source=new_source, diff=diff, changed=new_source != source,
                         applied=[] if refusals else applied, findings=refusals, refused=bool(refusals))


def migrate_file(path: str | Path, *, write: bool = False, backup: bool = True) -> MigrateResult:
    """`migrate_source` on a file; `write=True` replaces it atomically in its own encoding, keeping PATH.orig."""
    from codemods.analysis.source import decode_script

    p = Path(path)
    source, encoding = decode_script(p)
    result = migrate_source(source, filename=str(p))
    if write and result.changed:
        result.backup = atomic_write(p, result.new_source.encode(encoding), backup)
        result.written = True
    return result


class MigrateToCurrentAPI(Codemod):
    """Every `pai migrate` rule, for `python -m libcst.tool codemod`: a name no rule can map fails the file,
    which is left untouched."""

    DESCRIPTION = "Rewrite a 2024-API (pb_globals / pb_utils / pb_models) script to the current API."

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        return None

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        new, _, refusals = migrate_tree(tree, self.context.filename or "<string>")
        if refusals:
            raise MigrationRefused(refusals)
        return new
