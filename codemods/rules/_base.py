"""The base of every integration rule: the analysis report it decides from and the statement editor it uses.

The rules decide from the static analysis (`codemods.analysis`), whose line numbers refer to the script as
the user wrote it; `now` maps them through the orchestrator's `LineMap` (`codemods.rules._lines`) to the tree
being rewritten (a rule run on its own, `libcst.tool`, analyses the file itself and the map is the identity).
Edits are whole statements inserted before/after or replacing an anchor statement, so comments and formatting
of everything else are kept byte for byte.
"""
from __future__ import annotations

import argparse
import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand

from codemods._libcst_internals import StatementIndex, init_without_matcher_scan, needs_matcher_scan
from codemods.examples import Invalid, Valid
from codemods.rules._lines import render
from pai_core.findings import Finding, Severity

logger = logging.getLogger(__name__)

REPORT_KEY = "pai_report"
LINE_MAP_KEY = "pai_line_map"
FINDINGS_KEY = "pai_findings"
SOURCE_KEY = "pai_source"  # (tree, its code): the orchestrator shares the rendering it already has
NAMES_KEY = "pai_names"  # every identifier of the original script (the analysis' pass collected them)

BACKENDS = ("pai_core", "perforatedai")
# Scripts whose loop a framework runs get only the rules that name the framework in their FRAMEWORKS.
FRAMEWORKS = ("huggingface_trainer", "lightning")

_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)


# ------------------------------------------------------------------------------------------------ edits
@dataclass
class Edit:
    """What to do with one anchor statement."""

    before: list[cst.BaseStatement] = field(default_factory=list)
    after: list[cst.BaseStatement] = field(default_factory=list)
    replace: Callable[[cst.BaseStatement], Sequence[cst.BaseStatement]] | None = None


# ------------------------------------------------------------------------------------------------- base
class PaiRule(VisitorBasedCodemodCommand):
    """Base of the integration rules: subclasses implement `plan(tree)` and register `Edit`s by line."""

    CODE = "PAI000"
    DESCRIPTION = "base class"
    DEFAULT = True  # part of the default `pai perforate` run (else only when selected)
    FRAMEWORKS: tuple[str, ...] = ()  # training_library kinds whose scripts this rule rewrites too
    VALID: tuple[Valid, ...] = ()  # each rule's own examples (codemods.examples)
    INVALID: tuple[Invalid, ...] = ()

    def __init__(
        self,
        context: CodemodContext,
        backend: str = "pai_core",
        save_name: str | None = None,
        keep_for_loop: bool = False,
        extra_scores: bool = False,
        capacity_test: bool | None = None,
        **_ignored: Any,
    ) -> None:
        if needs_matcher_scan(type(self)):
            super().__init__(context)
        else:  # libcst scans every attribute for @m.visit/@m.leave on each instance (~15 ms per rule)
            init_without_matcher_scan(self, context)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.backend = backend
        self.save_name = save_name
        self.keep_for_loop = keep_for_loop
        self.extra_scores = extra_scores
        self.capacity_test = capacity_test
        self.edits: dict[int, Edit] = {}
        self.lines = StatementIndex()

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--backend", choices=BACKENDS, default="pai_core",
                                help="library the rewritten script imports (default: pai_core)")
        arg_parser.add_argument("--save-name", dest="save_name", default=None,
                                help="save_name passed to perforate_model (default: <script>_dendritic)")
        arg_parser.add_argument("--keep-for-loop", dest="keep_for_loop", action="store_true",
                                help="keep the epoch `for` header (with a large bound) instead of `while True`")
        arg_parser.add_argument("--extra-scores", dest="extra_scores", action="store_true",
                                help="also track the test set each epoch with add_extra_score(..., 'test')")

    # --- report and lines ---------------------------------------------------------------------------
    @property
    def report(self):
        report = self.context.scratch.get(REPORT_KEY)
        if report is None:
            from codemods.analysis import analyze_source

            report = analyze_source(self.module.code, filename=self.context.filename or "<string>")
            self.context.scratch[REPORT_KEY] = report
        return report

    def now(self, line: int | None) -> int | None:
        """Where an original line of the script is in the tree this rule is rewriting."""
        line_map = self.context.scratch.get(LINE_MAP_KEY)
        return line_map(line) if line_map is not None else line

    def note(self, message: str, line: int | None = None, *, severity: Severity = "warning") -> None:
        """Record a finding for the user, with its original line: a warning (applied with a caveat), an error
        (a change this rule could not make) or info (a change not made because it is there already)."""
        finding = Finding(code=self.CODE, severity=severity, message=message, file=self.context.filename, line=line)
        self.context.scratch.setdefault(FINDINGS_KEY, []).append(finding)
        where = f" (line {line})" if line else ""
        self.warn(f"{self.CODE}{where}: {message}")

    def skip(self, message: str, line: int | None = None) -> SkipFile:
        """Record why this rule changes nothing and return the SkipFile to raise."""
        self.note(message, line, severity="error")
        return SkipFile(f"{self.CODE}: {message}")

    # --- statement building -------------------------------------------------------------------------
    def stmt(self, code: str) -> cst.BaseStatement:
        return cst.parse_statement(code, config=self.module.config_for_parsing)

    def stmts(self, lines: Sequence[str]) -> list[cst.BaseStatement]:
        return [self.stmt(line) for line in lines]

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def add_edit(self, line: int, *, before=(), after=(), replace=None) -> None:
        edit = self.edits.setdefault(line, Edit())
        edit.before.extend(before)
        edit.after.extend(after)
        if replace is not None:
            if edit.replace is not None:
                first = edit.replace
                edit.replace = lambda node, first=first, second=replace: _chain(node, first, second)
            else:
                edit.replace = replace

    def statement_at(self, line: int | None) -> cst.BaseStatement | None:
        """The statement starting on a current line, or the innermost one containing it."""
        if line is None:
            return None
        node = self.lines.by_line.get(line)
        return node if node is not None else self.lines.innermost(line)  # type: ignore[return-value]

    def one_statement_lines(self, *kinds: type) -> list[cst.SimpleStatementLine]:
        """The lines that hold a single statement of `kinds` (e.g. `cst.Assign`), in source order: what a
        `m.SimpleStatementLine(body=[m.Assign(...)])` matcher can match, without matching every statement."""
        return [s for s in self.lines.start if type(s) is cst.SimpleStatementLine and len(s.body) == 1
                and isinstance(s.body[0], kinds)]

    def function_name(self, node: cst.CSTNode | None) -> str | None:
        """Name of the function enclosing a statement (None at module level)."""
        if node is None:
            return None
        for parent in self.lines.ancestors(node):
            if isinstance(parent, cst.FunctionDef):
                return parent.name.value
        return None

    def guard(self, node: cst.CSTNode) -> cst.If | None:
        """The `if` a statement runs under inside its function (the outermost; the `__main__` guard left
        out): an optimizer built under `if args.use_optimizer:` exists only when that holds."""
        found = None
        for parent in self.lines.ancestors(node):
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
                break
            if isinstance(parent, cst.If) and "__name__" not in self.code(parent.test):
                found = parent
        return found

    def loop_function(self) -> str | None:
        function = self.report.epoch_loop.function
        return function.rsplit(".", 1)[-1] if function else None

    def primary_model(self):
        """The model construction the integration hooks onto: of the model the analysis chose (see
        `codemods.analysis.model.choose_model`), preferably the one in the loop's function."""
        chosen = self.report.model.variable
        instances = [i for i in self.report.model.instances if chosen is None or i.variable == chosen]
        if not instances:
            return None
        loop_function = self.loop_function()
        in_loop_function = [
            i for i in instances if self.function_name(self.statement_at(self.now(i.line))) == loop_function
        ]
        for group in (in_loop_function, instances):
            local = [i for i in group if i.local_class]
            if local or group:
                return (local or group)[0]
        return None

    def siblings(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """The statements of the block that holds `node` (including it), in order."""
        parent = self.lines.parent.get(node)
        if parent is None:
            return list(self.module.body)
        for block in _blocks(parent):
            if any(s is node for s in block.body):
                return list(block.body)
        return [node]

    @property
    def source(self) -> str:
        """The current code (rendered once per rule run; presence checks search it instead of the tree)."""
        known = self.context.scratch.get(SOURCE_KEY)
        if known is not None and known[0] is self.module:
            return known[1]
        code = render(self.module, self.context.scratch)[1]
        self.context.scratch[SOURCE_KEY] = (self.module, code)
        return code

    def integrated(self, *attrs: str) -> bool:
        """True when the script already calls one of `attrs` of the dendrite library (work done before), as
        the analysis resolved the names: an alias counts, a comment or a string that mentions it does not."""
        calls = self.report.integration.calls
        done = [(attr, line) for attr in attrs for line in calls.get(attr, [])[:1]]
        for attr, line in done[:1]:  # a skip is always reported, with the line that made it
            self.note(f"{attr} is already called (line {line}): not added again", line, severity="info")
        return bool(done)

    def has_config(self) -> bool:
        step = self.report.integration.step("config")
        if step is None or step.status != "present":
            return False
        self.note("the script already sets GPA.pc options: no settings block added", (step.lines or [None])[0],
                  severity="info")
        return True

    def perforation_config(self):
        model = self.report.model
        if model.recommended_config is not None:
            return model.recommended_config
        from codemods.analysis import recommend_config

        return recommend_config(model.architecture, model.layer_kinds)

    @property
    def package(self) -> str:
        """The library the script imports: the one already there in a partial integration, else the backend."""
        package = self.report.integration.package
        return package if package in BACKENDS else self.backend

    def taken(self, name: str) -> bool:
        """Whether `name` is an identifier of the script (a new variable must not reuse it)."""
        names = self.context.scratch.get(NAMES_KEY)
        if names is None:
            from codemods.rules._script import names_in

            names = self.context.scratch[NAMES_KEY] = names_in(self.module)
        return name in names

    # --- aliases of the library modules in this script ------------------------------------------------
    @property
    def gpa(self) -> str:
        return _alias_for(self.report, "globals", "GPA")

    @property
    def upa(self) -> str:
        return _alias_for(self.report, "utils", "UPA")

    # --- running ----------------------------------------------------------------------------------------
    def transform_module(self, tree: cst.Module) -> cst.Module:
        # The rules read no libcst metadata (the analysis resolved names already), so skip the deep copy
        # Codemod.transform_module makes for a MetadataWrapper; import fix-ups still run as usual.
        if self.METADATA_DEPENDENCIES:
            return super().transform_module(tree)
        tree = self.transform_module_impl(tree)
        from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

        for key, transform in ((AddImportsVisitor.CONTEXT_KEY, AddImportsVisitor),
                               (RemoveImportsVisitor.CONTEXT_KEY, RemoveImportsVisitor)):
            if self.context.scratch.get(key):
                tree = transform(self.context).transform_module(tree)
        return tree

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.context = _with_module(self.context, tree)
        reason = refusal_reason(self.report)
        if reason:
            raise SkipFile(reason)
        framework = self.report.training_library.kind
        if framework in FRAMEWORKS and framework not in self.FRAMEWORKS:
            raise SkipFile(f"{self.CODE}: {framework} runs the training loop; its callback rule integrates it")
        self.lines = render(tree, self.context.scratch)[0]
        self.edits = {}
        self.plan(tree)
        if not self.edits and not self.has_other_changes():
            raise SkipFile(f"{self.CODE}: nothing to do")
        if self.has_other_changes():
            return tree.visit(self)
        # Statement edits only: walk statements and blocks, never expressions (10x faster on long scripts).
        return tree.visit(_StatementEditor(self))

    @abstractmethod
    def plan(self, tree: cst.Module) -> None:
        """Register this rule's `Edit`s (abstract, so `libcst.tool list` names only the rules)."""

    def has_other_changes(self) -> bool:
        """Rules that also rewrite expressions through their own leave_* methods return True."""
        return False

    # --- statement editor -----------------------------------------------------------------------------
    def _edit_body(self, original: Sequence[cst.CSTNode], updated: Sequence[cst.CSTNode]) -> list | None:
        if not self.edits:
            return None
        body: list[cst.CSTNode] = []
        changed = False
        carried: list[cst.EmptyLine] = []  # comments of a removed statement move to the next one
        for old, new in zip(original, updated, strict=True):
            edit = self.edits.get(self.lines.get(old, -1))
            if edit is None:
                if carried and hasattr(new, "leading_lines"):
                    new = new.with_changes(leading_lines=[*carried, *new.leading_lines])
                    carried = []
                body.append(new)
                continue
            changed = True
            replaced = list(edit.replace(new)) if edit.replace is not None else [new]
            if not replaced and not edit.before and not edit.after:
                carried.extend(line for line in getattr(new, "leading_lines", ()) if line.comment is not None)
                continue
            if carried and replaced:
                replaced[0] = replaced[0].with_changes(leading_lines=[*carried, *replaced[0].leading_lines])
                carried = []
            if edit.before and replaced:
                # the anchor keeps its comments and blank lines; the inserted block takes their place above
                lead = list(getattr(replaced[0], "leading_lines", ()))
                own = _comment_lines(lead)
                first_before = edit.before[0].with_changes(leading_lines=lead[: len(lead) - len(own)])
                replaced[0] = replaced[0].with_changes(leading_lines=own)
                body.extend([first_before, *edit.before[1:]])
            body.extend(replaced)
            body.extend(edit.after)
        if not body:
            body.append(cst.SimpleStatementLine(body=[cst.Pass()]))
        return body if changed else None

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock):
        body = self._edit_body(original_node.body, updated_node.body)
        return updated_node if body is None else updated_node.with_changes(body=body)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = self._edit_body(original_node.body, updated_node.body)
        return updated_node if body is None else updated_node.with_changes(body=body)


_CONTAINERS = (cst.Module, cst.BaseSuite, cst.BaseCompoundStatement, cst.Else, cst.ExceptHandler,
               cst.ExceptStarHandler, cst.Finally, cst.MatchCase)


class _StatementEditor(cst.CSTTransformer):
    """Applies a rule's statement edits, descending only into nodes that can hold statements."""

    def __init__(self, rule: PaiRule) -> None:
        super().__init__()
        self.rule = rule

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not isinstance(node, _CONTAINERS):
            return False
        if isinstance(node, _STATEMENTS):
            # A statement with no edit inside stays the very same object, so its rendering can be reused.
            lines = self.rule.lines
            start, end = lines.start.get(node), lines.end.get(node)
            if start is not None and end is not None and not any(start <= line <= end for line in self.rule.edits):
                return False
        return True

    def leave_IndentedBlock(self, original_node, updated_node):
        return self.rule.leave_IndentedBlock(original_node, updated_node)

    def leave_Module(self, original_node, updated_node):
        return self.rule.leave_Module(original_node, updated_node)


def _blocks(stmt: cst.CSTNode):
    """The indented blocks that belong directly to a compound statement (body, else, except, finally)."""
    stack = list(stmt.children)
    while stack:
        child = stack.pop(0)
        if isinstance(child, cst.IndentedBlock):
            yield child
        elif not isinstance(child, _STATEMENTS):
            stack.extend(child.children)


def _chain(node, first, second):
    out: list = []
    for stmt in first(node):
        out.extend(second(stmt))
    return out


def _comment_lines(lead: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """Comment lines directly above a statement belong to it; blank lines above stay above the insert."""
    lead = list(lead)
    keep: list[cst.EmptyLine] = []
    for line in reversed(lead):
        if line.comment is None:
            break
        keep.insert(0, line)
    return keep


def _with_module(context: CodemodContext, tree: cst.Module) -> CodemodContext:
    from dataclasses import replace

    from libcst.metadata import MetadataWrapper

    if context.wrapper is not None and context.wrapper.module is tree:
        return context
    return replace(context, wrapper=MetadataWrapper(tree, unsafe_skip_copy=True))


def _alias_for(report, role: str, default: str) -> str:
    for alias, alias_role in (report.integration.aliases or {}).items():
        if alias_role == role:
            return alias
    return default


# ------------------------------------------------------------------------------------------- refusals
def refusal_reason(report, *, loop: bool = False) -> str | None:
    """Why this script cannot be rewritten automatically (and what to do by hand), or None.

    `loop=True` adds the epoch-loop questions (no loop, no metric, unknown direction), which only stop a
    rewrite that includes PAI005.
    """
    library = report.training_library.kind  # HF Trainer and Lightning Trainer scripts get PAI010 / PAI011
    if library == "lightning_fabric":
        return (
            "PAI008: this script trains with Lightning Fabric, which wraps the model and the optimizers "
            "(fabric.setup). Integrate by hand: perforate_model before fabric.setup, and after every restructure "
            "build the optimizer again and pass it through fabric.setup_optimizers (workflow section 2.15), or "
            "train with the Lightning Trainer and PAILightningCallback."
        )
    sharding = getattr(report.training_library, "sharding", None)
    if sharding:
        return (
            f"PAI008: this script shards the model across processes ({sharding}). The framework callbacks grow "
            "dendrites in place, which sharded parameters (DeepSpeed, FSDP) do not allow. Remove that setting "
            "and run `pai perforate` again to train with dendrites on one device first."
        )
    from codemods.analysis.loop import loop_refusal
    from codemods.analysis.parallel import distributed_refusal  # DDP is integrated by PAI009

    # A missing metric or loop comes first: without it no choice of model can be integrated.
    question = (loop_refusal(report) if loop else None) or (
        f"PAI008: {report.model.question}" if report.model.question else None)  # several models: ask
    if library == "huggingface_trainer" and set(report.parallelism.kinds) <= {"torch.distributed",
                                                                                "DistributedDataParallel"}:
        return question  # the Trainer wraps the model in DDP itself; a script's own init_process_group is its setup
    return distributed_refusal(report.parallelism) or question
