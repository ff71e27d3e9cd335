"""What every migration rule shares: which 2024 name a node is (by qualified name, so any alias or import form
works), today's expression for it with its import scheduled, and refusals that name what cannot be mapped.

The names come from `pai_core.upstream_names`, the table the runtime drop-in (pai_core.legacy) reads too.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import PositionProvider, QualifiedNameProvider, ScopeProvider

from codemods.examples import Invalid, Valid
from pai_core.findings import Finding
from pai_core.upstream_names import CURRENT_ALIASES, LEGACY_MODULES, Renamed

PACKAGES = ("perforatedai", "pai_core")
REFUSALS_KEY = "pai_migrate_refusals"  # a list the orchestrator reads; a rule run alone raises instead
GLOBALS = ("pb_globals", "globalsFile")


class MigrationRefused(Exception):
    """The script uses a 2024 name that has no safe current-API rewrite; nothing was changed."""

    def __init__(self, refusals: list[Finding]) -> None:
        super().__init__("; ".join(f"line {r.line}: {r.message}" for r in refusals))


@dataclass(frozen=True)
class LegacyName:
    """A reference into a 2024 module: `perforatedai.pb_globals` + ("pbTracker", "addValidationScore")."""

    package: str
    module: str
    path: tuple[str, ...]


def legacy_name(node: cst.CSTNode, qualified: set) -> LegacyName | None:
    for q in qualified:
        parts = q.name.split(".")
        if len(parts) >= 2 and parts[0] in PACKAGES and parts[1] in LEGACY_MODULES:
            return LegacyName(parts[0], parts[1], tuple(parts[2:]))
    return None


class MigrationRule(VisitorBasedCodemodCommand):
    """A rename family of the 2024 API. Subclasses set CODE and DESCRIPTION and replace the references they
    own in `replace(legacy, original, updated)`; every rule sees only the outermost 2024 name of a chain
    (`PBG.pbTracker.addValidationScore`, never `PBG.pbTracker` inside it)."""

    CODE: ClassVar[str] = "PAI200"  # the base's: a 2024 name that no rule maps (left over after all)
    DESCRIPTION: ClassVar[str] = ""
    VALID: ClassVar[tuple[Valid, ...]] = ()  # each rule's own examples (codemods.examples)
    INVALID: ClassVar[tuple[Invalid, ...]] = ()
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider, ScopeProvider)

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self._aliases: dict[tuple[str, str], str] = {}  # (package, current module) -> alias bound in the script
        self._bound: set[str] = set()

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:  # libcst.tool: no options
        return None

    # ------------------------------------------------------------------------------------- lookups
    def legacy(self, node: cst.CSTNode) -> LegacyName | None:
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        return legacy_name(node, self.get_metadata(QualifiedNameProvider, node, set()))

    def line(self, node: cst.CSTNode) -> int | None:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return None

    def refuse(self, node: cst.CSTNode, message: str) -> None:
        """A 2024 name with no safe rewrite: an error finding, and the whole file is left unchanged."""
        refusal = Finding(code=self.CODE, severity="error", message=message, file=self.context.filename,
                          line=self.line(node))
        self.context.scratch.setdefault(REFUSALS_KEY, []).append(refusal)

    # ------------------------------------------------------------------------- today's expressions
    def current(self, package: str, renamed: Renamed | None = None, *, module: str = "", attr: str = "",
                node: cst.CSTNode | None = None) -> cst.BaseExpression:
        """`GPA.pc.set_x` / `UPA.perforate_model` / `torch.nn.DataParallel`, its import scheduled."""
        module = renamed.module if renamed else module
        dotted = ".".join(p for p in (attr or (renamed.name if renamed else "")).split(".") if p)
        if "." in module:  # a full module path: `import torch.nn`, used as torch.nn.DataParallel
            AddImportsVisitor.add_needed_import(self.context, module)
            return cst.parse_expression(f"{module}.{dotted}")
        alias = self._aliases.get((package, module))
        if alias is None:
            alias = CURRENT_ALIASES[module]
            if alias in self._bound:
                self.refuse(node or cst.Name(alias), f"`{alias}` already names something else in this script, so "
                            f"`from {package} import {module} as {alias}` cannot be added: rename your `{alias}`, "
                            "then run pai migrate again")
            AddImportsVisitor.add_needed_import(self.context, package, module, asname=alias)
            self._aliases[(package, module)] = alias
        return cst.parse_expression(f"{alias}.{dotted}" if dotted else alias)

    def renamed_call(self, call: cst.Call, renamed: Renamed, package: str, original: cst.Call,
                     func: cst.BaseExpression | None = None) -> cst.Call:
        """`call` as today's call: keywords renamed, the 2024 defaults that differ from today's written out."""
        func = func if func is not None else self.current(package, renamed, node=original)
        if not renamed.keywords:
            return call.with_changes(func=func)
        order = list(renamed.keywords)
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if any(a.star for a in call.args):
            self.refuse(original, f"`{self.code_of(original.func)}(*args / **kwargs)`: the 2024 keywords inside "
                        f"cannot be renamed; pass them by name ({', '.join(order)}), then run pai migrate again")
            return call
        args, given = [], set(order[:len(positional)])
        for arg in call.args:
            if arg.keyword is None:
                args.append(arg)
                continue
            old = arg.keyword.value
            if old not in renamed.keywords:
                self.refuse(original, f"`{self.code_of(original.func)}(..., {old}=...)`: the 2024 call has no "
                            f"keyword {old!r} pai can map (known: {', '.join(order)})")
                return call
            given.add(old)
            args.append(arg.with_changes(keyword=cst.Name(renamed.keywords[old])))
        inverse = {new: old for old, new in renamed.keywords.items()}
        for new, value in renamed.defaults.items():
            if inverse[new] not in given:
                args.append(cst.Arg(keyword=cst.Name(new), value=cst.parse_expression(_literal(value)),
                                    equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                          whitespace_after=cst.SimpleWhitespace(""))))
        return call.with_changes(func=func, args=args)

    def code_of(self, node: cst.CSTNode) -> str:
        return cst.Module(body=[]).code_for_node(node)

    # ------------------------------------------------------------------------------- traversal
    def visit_Module(self, node: cst.Module) -> None:
        for imp in m.findall(node, m.ImportFrom() | m.Import()):
            for alias in imp.names if not isinstance(imp.names, cst.ImportStar) else ():
                bound = (alias.asname.name if alias.asname else alias.name)
                bound_name = self.code_of(bound).split(".")[0]
                source = self.code_of(imp.module) if isinstance(imp, cst.ImportFrom) and imp.module else ""
                name = self.code_of(alias.name)
                if source in PACKAGES and name in CURRENT_ALIASES:
                    self._aliases[(source, name)] = bound_name
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is not None:
            self._bound = {a.name for a in scope.assignments} - set(self._aliases.values())

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self.legacy(node) is None  # a 2024 chain is replaced whole, from its outermost attribute

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._leave_reference(original_node, updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._leave_reference(original_node, updated_node)

    def _leave_reference(self, original, updated) -> cst.BaseExpression:
        legacy = self.legacy(original)
        if legacy is None or not legacy.path:
            return updated
        return self.replace(legacy, original, updated)

    def replace(self, legacy: LegacyName, original: cst.BaseExpression,
                updated: cst.BaseExpression) -> cst.BaseExpression:
        """Today's expression for a 2024 reference this rule owns, else `updated` unchanged."""
        return updated

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        standalone = REFUSALS_KEY not in self.context.scratch
        self.context.scratch.setdefault(REFUSALS_KEY, [])
        new = super().transform_module_impl(tree)
        refusals = self.context.scratch[REFUSALS_KEY]
        if standalone and refusals:  # run alone (libcst.tool): fail the file, leave it untouched
            raise MigrationRefused(refusals)
        return new


def _literal(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)
