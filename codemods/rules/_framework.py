"""What the two framework rules (PAI010 HF Trainer, PAI011 Lightning) share: when a framework runs the training
loop, the integration is one callback in the Trainer's `callbacks=[...]` plus its import; the settings block
comes from PAI002 as for any script.

The callback is added to the Trainer construction found by the analysis: a new `callbacks=[...]` argument, or
appended to the list already there (`callbacks=cbs` becomes `callbacks=[*cbs, ...]`). Formatting of the call
(one line or one argument per line, trailing comma) is kept.
"""

from __future__ import annotations

from abc import abstractmethod

import libcst as cst
import libcst.matchers as m
from libcst.codemod import SkipFile
from libcst.helpers import get_full_name_for_node

from codemods.rules._base import PaiRule
from codemods.rules._script import sanitize_save_name
from codemods.rules.perforate_model import _default_save_name

MAX_LINE = 110  # a one-line Trainer call that would grow past this gets the callback on its own line


class AddFrameworkCallback(PaiRule):
    """Base of PAI010/PAI011: subclasses name the library kind, the callback and its arguments."""

    LIBRARY = ""  # report.training_library.kind handled
    MODULE = ""  # pai_core.integrations.<MODULE>
    CALLBACK = ""  # the callback class

    @abstractmethod
    def callback_arguments(self) -> list[str]:
        """The callback's arguments, as source text."""

    def review(self) -> None:
        """Warnings about the rest of the script (subclasses)."""

    def plan(self, tree: cst.Module) -> None:
        info = self.report.training_library
        if info.kind != self.LIBRARY:
            raise SkipFile(f"{self.CODE}: not a {self.LIBRARY} script")
        if info.pai_callback == self.CALLBACK:  # integrated before: at most an import is missing
            if not self._add_imports(tree):
                raise SkipFile(f"{self.CODE}: {self.CALLBACK} is already used")
            return
        if self.report.integration.package == "perforatedai":
            raise self.skip(f"the script imports the upstream perforatedai package, which has no callback for "
                            f"this framework; {self.CALLBACK} is part of pai_core: import pai_core instead and "
                            "run `pai perforate` again", info.trainer_line)
        if self.backend == "perforatedai":
            self.note(f"{self.CALLBACK} is part of pai_core (the upstream package has no callback for this "
                      "framework), so the script imports pai_core", info.trainer_line)
        stmt = self.statement_at(self.now(info.trainer_line))
        if stmt is None or info.trainer_call is None or not find_call(stmt, info.trainer_call):
            raise self.skip(f"no {info.trainer_class or 'Trainer'}(...) construction found; add "
                            f"callbacks=[{self.CALLBACK}(...)] to your Trainer by hand", info.trainer_line)
        text = f"{self.CALLBACK}({', '.join(self.callback_arguments())})"
        callback = cst.parse_expression(text)
        if info.trainer_class == "LightningCLI":  # it builds the Trainer from trainer_defaults
            if not find_call(stmt, info.trainer_call, _trainer_defaults_editable):
                raise self.skip(f"LightningCLI(...) at line {info.trainer_line} takes its trainer_defaults from a "
                                f"variable; add \"callbacks\": [{text}] to that dict by hand (or `--trainer."
                                f"callbacks+={self.CALLBACK}` on the command line)", info.trainer_line)
            self.edit_call(stmt, info.trainer_call, lambda call: add_default_callback(call, callback))
        else:
            column = self._continuation_column(stmt, info.trainer_call, len(f", callbacks=[{text}]"))
            self.edit_call(stmt, info.trainer_call, lambda call: add_callback(call, callback, column))
        self._add_imports(tree)
        if self.report.early_stopping.present:
            self.note("early stopping can end training before the dendrites are done; the tracker decides when "
                      "training is complete, so remove the early-stopping callback", info.trainer_line)
        self.review()

    def edit_call(self, stmt: cst.CSTNode, callee: str, edit) -> None:
        """Rewrite the `callee(...)` call inside statement `stmt` with `edit(call) -> call`."""
        self.add_edit(self.lines.get(stmt), replace=lambda node: [node.visit(_EditCall(callee, edit))])

    def _continuation_column(self, stmt: cst.CSTNode, callee: str, added: int) -> int | None:
        """Where a new argument starts on its own line when a one-line Trainer call would grow too long:
        under the call's first argument (None: keep it on the line)."""
        start = self.lines.get(stmt)
        if start < 1 or self.lines.end.get(stmt, start) != start:
            return None
        line = self.source.splitlines()[start - 1]
        at = line.find(f"{callee}(")
        return at + len(callee) + 1 if at >= 0 and len(line) + added > MAX_LINE else None

    def save_name_argument(self) -> str:
        name = sanitize_save_name(self.save_name or _default_save_name(self.context.filename))
        return f'save_name="{name}"'

    def _add_imports(self, tree: cst.Module) -> bool:
        """Import GPA (when the settings block uses it) and the callback, unless already imported."""
        lines = []
        roles = set((self.report.integration.aliases or {}).values())
        settings = m.Attribute(value=m.Attribute(value=m.Name(self.gpa), attr=m.Name("pc")))  # GPA.pc.<setting>
        if "globals" not in roles and m.findall(tree, settings):
            lines.append(f"from pai_core import globals_perforatedai as {self.gpa}")  # the settings block uses it
        modules = ("pai_core.integrations", f"pai_core.integrations.{self.MODULE}")
        if not any(i.module in modules and i.name == self.CALLBACK for i in self.report.imports):
            lines.append(f"from pai_core.integrations.{self.MODULE} import {self.CALLBACK}")
        if not lines:
            return False
        imports = [s for s in tree.body if m.matches(s, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()]))]
        if imports:
            self.add_edit(self.lines.get(imports[-1]), after=self.stmts(lines))
        else:
            self.add_edit(self.lines.get(tree.body[0]), before=self.stmts(lines))
        return True


def find_call(node: cst.CSTNode, callee: str, accept=lambda call: True) -> bool:
    return any(get_full_name_for_node(c.func) == callee and accept(c) for c in m.findall(node, m.Call()))


def _trainer_defaults(call: cst.Call) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == "trainer_defaults"), None)


def _trainer_defaults_editable(call: cst.Call) -> bool:
    arg = _trainer_defaults(call)
    return arg is None or isinstance(arg.value, cst.Dict)


def add_default_callback(call: cst.Call, callback: cst.BaseExpression) -> cst.Call:
    """`LightningCLI(..., trainer_defaults={..., "callbacks": [..., callback]})`."""
    arg = _trainer_defaults(call)
    entry = cst.DictElement(cst.SimpleString('"callbacks"'), cst.List([cst.Element(callback)]))
    if arg is None:
        return add_keyword(call, "trainer_defaults", cst.Dict([entry]))
    elements = list(arg.value.elements)  # type: ignore[attr-defined]
    for index, element in enumerate(elements):
        key = getattr(element, "key", None)
        if isinstance(key, cst.SimpleString) and key.evaluated_value == "callbacks":
            value = element.value
            value = (value.with_changes(elements=_append(list(value.elements), cst.Element(callback)))
                     if isinstance(value, cst.List) else cst.List([cst.StarredElement(value), cst.Element(callback)]))
            elements[index] = element.with_changes(value=value)
            break
    else:
        elements = _append(elements, entry)
    new = arg.with_changes(value=arg.value.with_changes(elements=elements))
    return call.with_changes(args=[new if a is arg else a for a in call.args])


class _EditCall(cst.CSTTransformer):
    """Applies `edit` to every `callee(...)` call in a statement (there is one: the Trainer, its arguments)."""

    def __init__(self, callee: str, edit) -> None:
        super().__init__()
        self.callee = callee
        self.edit = edit

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if get_full_name_for_node(updated_node.func) != self.callee:
            return updated_node
        return self.edit(updated_node)


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(keyword=cst.Name(name), value=value, equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression, column: int | None = None) -> cst.Call:
    """Append `name=value`; with `column`, on a new line starting at that column."""
    args = _append(list(call.args), keyword(name, value))
    if column is not None and len(args) > 1:
        newline = cst.ParenthesizedWhitespace(last_line=cst.SimpleWhitespace(" " * column))
        args[-2] = args[-2].with_changes(comma=cst.Comma(whitespace_after=newline))
    return call.with_changes(args=args)


def add_callback(call: cst.Call, callback: cst.BaseExpression, column: int | None = None) -> cst.Call:
    """`callbacks=[..., callback]`: a new argument, appended to a list, or `[*value, callback]`. The forked
    transformers' `using_perforatedai=` flag goes (the stock Trainer rejects it; the callback replaces it)."""
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "using_perforatedai")]
    if len(args) < len(call.args) and args:
        args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == "callbacks":
            value = arg.value
            if isinstance(value, cst.List):
                value = value.with_changes(elements=_append(list(value.elements), cst.Element(callback)))
            elif isinstance(value, cst.Name) and value.value == "None":
                value = cst.List([cst.Element(callback)])
            else:
                value = cst.List([cst.StarredElement(value), cst.Element(callback)])
            args[index] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    return add_keyword(call.with_changes(args=args), "callbacks", cst.List([cst.Element(callback)]), column)


def _append(items: list, new):
    """Append an argument/element, keeping one-per-line layouts and a trailing comma."""
    if not items:
        return [new]
    last = items[-1]
    default = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    separator = items[-2].comma if len(items) > 1 and isinstance(items[-2].comma, cst.Comma) else default
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new item goes last with that comma
        return [*items[:-1], last.with_changes(comma=separator), new.with_changes(comma=last.comma)]
    if isinstance(last, cst.Arg):  # whitespace before the closing parenthesis moves to the new last argument
        return [*items[:-1], last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace("")),
                new.with_changes(whitespace_after_arg=last.whitespace_after_arg)]
    return [*items[:-1], last.with_changes(comma=separator), new]
